package org.tensorflow.lite;

import java.io.File;
import java.util.Map;

/**
 * Compile-only stub of org.tensorflow.lite.Interpreter from com.google.ai.edge.litert:litert (the version
 * pinned in app/build.gradle.kts): the signatures the app calls, nothing else. The Gradle-free build compiles
 * against it and keeps it out of the APK; a phone build links the real AAR.
 */
public final class Interpreter implements AutoCloseable {
    /** Interpreter options (threads, XNNPACK). */
    public static class Options {
        public Options setNumThreads(int numThreads) {
            throw new UnsupportedOperationException("compile-only stub of litert");
        }

        public Options setUseXNNPACK(boolean useXnnpack) {
            throw new UnsupportedOperationException("compile-only stub of litert");
        }
    }

    public Interpreter(File modelFile, Options options) {
        throw new UnsupportedOperationException("compile-only stub of litert");
    }

    public int getInputTensorCount() {
        throw new UnsupportedOperationException("compile-only stub of litert");
    }

    public int getOutputTensorCount() {
        throw new UnsupportedOperationException("compile-only stub of litert");
    }

    public Tensor getInputTensor(int inputIndex) {
        throw new UnsupportedOperationException("compile-only stub of litert");
    }

    public Tensor getOutputTensor(int outputIndex) {
        throw new UnsupportedOperationException("compile-only stub of litert");
    }

    public void runForMultipleInputsOutputs(Object[] inputs, Map<Integer, Object> outputs) {
        throw new UnsupportedOperationException("compile-only stub of litert");
    }

    @Override
    public void close() {
        throw new UnsupportedOperationException("compile-only stub of litert");
    }
}
