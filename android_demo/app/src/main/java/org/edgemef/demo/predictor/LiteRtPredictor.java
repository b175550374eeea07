package org.edgemef.demo.predictor;

import java.io.File;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.HashMap;
import java.util.Map;

import org.edgemef.core.Contract;
import org.edgemef.core.ContractException;
import org.tensorflow.lite.Interpreter;

/**
 * LiteRT's Interpreter on the CPU with XNNPACK (an int8 artifact runs XNNPACK's int8 kernels). Tensors are
 * found by the contract's runtime indices and checked against the model file's own shapes when it loads.
 */
final class LiteRtPredictor implements Predictor {
    private final Interpreter interpreter;
    private final int threads;
    private final int grid;
    private final int exposures;
    private final int weightsIndex;
    private final int lutIndex;
    private final int[] mapSize;
    private final ByteBuffer input;
    private final ByteBuffer weights;
    private final ByteBuffer lut;

    LiteRtPredictor(Contract contract, File artifact, int grid, int threads)
        throws PredictorException, ContractException {
        this.threads = threads;
        this.grid = grid;
        this.exposures = contract.nExposures;
        Contract.Tensor in = contract.tensor("thumbnails");
        Contract.Tensor outWeights = contract.tensor("weights");
        Contract.Tensor outLut = contract.tensor("lut");
        weightsIndex = outWeights.index;
        lutIndex = outLut.index;
        mapSize = contract.weightMapSize();
        try {
            interpreter = new Interpreter(artifact, new Interpreter.Options().setNumThreads(threads).setUseXNNPACK(true));
        } catch (RuntimeException e) {
            throw new PredictorException("LiteRT could not load " + artifact.getName() + ": " + e.getMessage(), e);
        }
        expectShape("input", interpreter.getInputTensor(in.index).shape(), in.shape);
        expectShape("weights", interpreter.getOutputTensor(weightsIndex).shape(), outWeights.shape);
        expectShape("lut", interpreter.getOutputTensor(lutIndex).shape(), outLut.shape);
        input = direct(count(in.shape));
        weights = direct(exposures * mapSize[0] * mapSize[1]);
        lut = direct(grid * grid * grid * 3);
    }

    private static int count(int[] shape) {
        int n = 1;
        for (int s : shape) {
            n *= s;
        }
        return n;
    }

    private static ByteBuffer direct(int floats) {
        return ByteBuffer.allocateDirect(4 * floats).order(ByteOrder.nativeOrder());
    }

    private void expectShape(String what, int[] actual, int[] contract) throws PredictorException {
        if (!java.util.Arrays.equals(actual, contract)) {
            interpreter.close();
            throw new PredictorException("the model's " + what + " is " + java.util.Arrays.toString(actual)
                + ", its contract says " + java.util.Arrays.toString(contract));
        }
    }

    @Override
    public Prediction predict(float[] thumbnails) throws PredictorException {
        if (thumbnails.length * 4 != input.capacity()) {
            throw new PredictorException("thumbnails of " + thumbnails.length + " values, the model takes "
                + input.capacity() / 4);
        }
        input.rewind();
        input.asFloatBuffer().put(thumbnails);
        weights.rewind();
        lut.rewind();
        Map<Integer, Object> outputs = new HashMap<Integer, Object>();
        outputs.put(weightsIndex, weights);
        outputs.put(lutIndex, lut);
        try {
            interpreter.runForMultipleInputsOutputs(new Object[] {input}, outputs);
        } catch (RuntimeException e) {
            throw new PredictorException("LiteRT failed to run: " + e.getMessage(), e);
        }
        return new Prediction(floats(weights, exposures * mapSize[0] * mapSize[1]), mapSize[0], mapSize[1],
            floats(lut, grid * grid * grid * 3), grid);
    }

    private static float[] floats(ByteBuffer buffer, int n) {
        buffer.rewind();
        FloatBuffer view = buffer.asFloatBuffer();
        float[] values = new float[n];
        view.get(values);
        return values;
    }

    @Override
    public String runtime() {
        return "litert";
    }

    @Override
    public String delegate() {
        return "XNNPACK, " + threads + " threads";
    }

    @Override
    public void close() {
        interpreter.close();
    }
}
