package org.edgemef.demo.predictor;

/** A model that does not load or run, or outputs that are not what its contract says. */
public final class PredictorException extends Exception {
    public PredictorException(String message) {
        super(message);
    }

    public PredictorException(String message, Throwable cause) {
        super(message, cause);
    }
}
