package org.tensorflow.lite;

/** Compile-only stub of org.tensorflow.lite.Tensor (litert): see Interpreter. */
public interface Tensor {
    int[] shape();

    String name();

    int numElements();
}
