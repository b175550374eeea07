package org.pytorch.executorch;

/**
 * Compile-only stub of org.pytorch.executorch.Module from org.pytorch:executorch-android (the version pinned
 * in app/build.gradle.kts): the signatures the app calls, nothing else. The Gradle-free build compiles against
 * it and keeps it out of the APK; a phone build links the real AAR.
 */
public class Module {
    public static final int LOAD_MODE_FILE = 0;
    public static final int LOAD_MODE_MMAP = 1;

    private Module() {
    }

    public static Module load(String modelPath, int loadMode, int numThreads) {
        throw new UnsupportedOperationException("compile-only stub of executorch-android");
    }

    public EValue[] forward(EValue... inputs) {
        throw new UnsupportedOperationException("compile-only stub of executorch-android");
    }

    public void destroy() {
        throw new UnsupportedOperationException("compile-only stub of executorch-android");
    }
}
