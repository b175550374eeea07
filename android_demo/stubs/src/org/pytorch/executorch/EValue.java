package org.pytorch.executorch;

/** Compile-only stub of org.pytorch.executorch.EValue (executorch-android): see Module. */
public class EValue {
    private EValue() {
    }

    public static EValue from(Tensor tensor) {
        throw new UnsupportedOperationException("compile-only stub of executorch-android");
    }

    public Tensor toTensor() {
        throw new UnsupportedOperationException("compile-only stub of executorch-android");
    }
}
