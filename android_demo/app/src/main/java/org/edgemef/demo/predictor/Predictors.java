package org.edgemef.demo.predictor;

import java.io.File;

import org.edgemef.core.Contract;
import org.edgemef.core.ContractException;

/** Opens the predictor that an artifact's contract names. */
public final class Predictors {
    private Predictors() {
    }

    /**
     * @param contract the artifact's contract (core Contract, already validated)
     * @param artifact the model file (.tflite or .pte) the contract describes
     * @param threads CPU threads for the runtime
     */
    public static Predictor open(Contract contract, File artifact, int threads) throws PredictorException {
        if (!"lut-distill".equals(contract.family) && !Contract.ADAPTIVE_FAMILY.equals(contract.family)) {
            throw new PredictorException("the demo runs LUT-distill and adaptive LUT artifacts; " + artifact.getName()
                + " is a " + contract.family + " artifact");
        }
        if (!artifact.isFile()) {
            throw new PredictorException("no model file at " + artifact);
        }
        try {
            int grid = contract.lutGrid();
            contract.thumbnailSize();
            if ("litert".equals(contract.backend)) {
                return new LiteRtPredictor(contract, artifact, grid, threads);
            }
            if ("executorch".equals(contract.backend)) {
                return new ExecuTorchPredictor(contract, artifact, grid, threads);
            }
        } catch (ContractException e) {
            throw new PredictorException(artifact.getName() + ": " + e.getMessage(), e);
        } catch (LinkageError e) { // the Gradle-free APK: compiled against stubs, no runtime inside
            throw new PredictorException("this APK has no " + contract.backend + " runtime inside (the "
                + "Gradle-free build); build android_demo with Gradle for a phone", e);
        }
        throw new PredictorException("the demo runs LiteRT (.tflite) and ExecuTorch (.pte) artifacts, not "
            + contract.backend);
    }

    /** Check a flat output's length against the contract's shape. */
    static void checkLength(String name, float[] values, int expected) throws PredictorException {
        if (values.length != expected) {
            throw new PredictorException("output " + name + " has " + values.length + " values, the contract says "
                + expected);
        }
    }
}
