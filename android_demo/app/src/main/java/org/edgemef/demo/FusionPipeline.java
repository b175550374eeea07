package org.edgemef.demo;

import org.edgemef.core.Contract;
import org.edgemef.core.ContractException;
import org.edgemef.core.Frame;
import org.edgemef.core.Thumbnails;
import org.edgemef.demo.gl.GlLutRenderer;
import org.edgemef.demo.predictor.Prediction;
import org.edgemef.demo.predictor.Predictor;
import org.edgemef.demo.predictor.PredictorException;

/**
 * LUT-distill on the phone, in the stages the desktop profiler names: thumbnails (core, as
 * edgemef.runtime.preprocess), predictor (the artifact in its runtime), apply (the GL shader at full
 * resolution). Frames must already be in the darkest-first order (core BracketOrder).
 */
public final class FusionPipeline {
    /** The stages, in order, as a profile report names them. */
    public static final String[] STAGES = {"thumbnails", "predictor", "apply"};

    /** A fused image and the milliseconds of each stage. */
    public static final class Result {
        public final int width;
        public final int height;
        /** RGB bytes, row by row. */
        public final byte[] rgb;
        public final Prediction prediction;
        /** One value per entry of {@link #STAGES}. */
        public final double[] stageMs;

        Result(int width, int height, byte[] rgb, Prediction prediction, double[] stageMs) {
            this.width = width;
            this.height = height;
            this.rgb = rgb;
            this.prediction = prediction;
            this.stageMs = stageMs;
        }
    }

    private final Contract contract;
    private final Predictor predictor;
    private final GlLutRenderer renderer;
    private final int thumbnailSize;

    public FusionPipeline(Contract contract, Predictor predictor, GlLutRenderer renderer) throws ContractException {
        this.contract = contract;
        this.predictor = predictor;
        this.renderer = renderer;
        this.thumbnailSize = contract.thumbnailSize();
    }

    public Predictor predictor() {
        return predictor;
    }

    /** Fuse an ordered bracket (as many frames as the contract's n_exposures, one size). */
    public Result fuse(Frame[] ordered) throws PredictorException {
        if (ordered.length != contract.nExposures) {
            throw new PredictorException(contract.artifact + " fuses brackets of " + contract.nExposures
                + " exposures, got " + ordered.length);
        }
        double[] ms = new double[STAGES.length];
        long start = System.nanoTime();
        float[] thumbnails = Thumbnails.networkInput(ordered, thumbnailSize);
        long resized = System.nanoTime();
        Prediction prediction = predictor.predict(thumbnails);
        long predicted = System.nanoTime();
        byte[] rgb = renderer.render(ordered, prediction.weights, prediction.mapHeight, prediction.mapWidth,
            prediction.lut, prediction.grid);
        long applied = System.nanoTime();
        ms[0] = (resized - start) / 1e6;
        ms[1] = (predicted - resized) / 1e6;
        ms[2] = (applied - predicted) / 1e6;
        return new Result(ordered[0].width, ordered[0].height, rgb, prediction, ms);
    }

    /** Free the predictor and the GL context (from the thread that made the renderer). */
    public void close() {
        predictor.close();
        renderer.release();
    }
}
