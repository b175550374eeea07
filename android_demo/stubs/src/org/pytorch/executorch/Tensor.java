package org.pytorch.executorch;

/** Compile-only stub of org.pytorch.executorch.Tensor (executorch-android): see Module. */
public abstract class Tensor {
    public static Tensor fromBlob(float[] data, long[] shape) {
        throw new UnsupportedOperationException("compile-only stub of executorch-android");
    }

    public abstract long[] shape();

    public float[] getDataAsFloatArray() {
        throw new UnsupportedOperationException("compile-only stub of executorch-android");
    }
}
