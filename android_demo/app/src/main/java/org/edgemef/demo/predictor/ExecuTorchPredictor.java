package org.edgemef.demo.predictor;

import java.io.File;

import org.edgemef.core.Contract;
import org.edgemef.core.ContractException;
import org.pytorch.executorch.EValue;
import org.pytorch.executorch.Module;
import org.pytorch.executorch.Tensor;

/**
 * ExecuTorch's Module (the .pte carries its XNNPACK delegate): forward(thumbnails) returns the outputs in the
 * order of the contract's runtime indices.
 */
final class ExecuTorchPredictor implements Predictor {
    private final Module module;
    private final int threads;
    private final int grid;
    private final int exposures;
    private final long[] inputShape;
    private final int weightsIndex;
    private final int lutIndex;
    private final int[] mapSize;

    ExecuTorchPredictor(Contract contract, File artifact, int grid, int threads)
        throws PredictorException, ContractException {
        this.threads = threads;
        this.grid = grid;
        this.exposures = contract.nExposures;
        int[] shape = contract.tensor("thumbnails").shape;
        inputShape = new long[shape.length];
        for (int i = 0; i < shape.length; i++) {
            inputShape[i] = shape[i];
        }
        weightsIndex = contract.tensor("weights").index;
        lutIndex = contract.tensor("lut").index;
        mapSize = contract.weightMapSize();
        try {
            module = Module.load(artifact.getAbsolutePath(), Module.LOAD_MODE_MMAP, threads);
        } catch (RuntimeException e) {
            throw new PredictorException("ExecuTorch could not load " + artifact.getName() + ": " + e.getMessage(),
                e);
        }
    }

    @Override
    public Prediction predict(float[] thumbnails) throws PredictorException {
        EValue[] outputs;
        try {
            outputs = module.forward(EValue.from(Tensor.fromBlob(thumbnails, inputShape)));
        } catch (RuntimeException e) {
            throw new PredictorException("ExecuTorch failed to run: " + e.getMessage(), e);
        }
        if (outputs.length <= Math.max(weightsIndex, lutIndex)) {
            throw new PredictorException("ExecuTorch returned " + outputs.length + " outputs, the contract names 2");
        }
        float[] weights = outputs[weightsIndex].toTensor().getDataAsFloatArray();
        float[] lut = outputs[lutIndex].toTensor().getDataAsFloatArray();
        Predictors.checkLength("weights", weights, exposures * mapSize[0] * mapSize[1]);
        Predictors.checkLength("lut", lut, grid * grid * grid * 3);
        return new Prediction(weights, mapSize[0], mapSize[1], lut, grid);
    }

    @Override
    public String runtime() {
        return "executorch";
    }

    @Override
    public String delegate() {
        return "XNNPACK (in the .pte), " + threads + " threads";
    }

    @Override
    public void close() {
        module.destroy();
    }
}
