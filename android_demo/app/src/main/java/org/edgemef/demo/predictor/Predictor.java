package org.edgemef.demo.predictor;

/**
 * The LUT-distill network in a mobile runtime: thumbnails in, weights and LUT out. One implementation per
 * runtime a contract can name ({@link Predictors#open}).
 */
public interface Predictor {
    /**
     * Run the network once.
     *
     * @param thumbnails 1 x 3N x T x T floats in [0, 1] (core Thumbnails.networkInput)
     */
    Prediction predict(float[] thumbnails) throws PredictorException;

    /** The runtime, as the contract's backend names it ("litert", "executorch"). */
    String runtime();

    /** Where it runs, in words (e.g. "XNNPACK, 4 threads"). */
    String delegate();

    void close();
}
