// The edgemef Android demo: `core` (plain Java: contract, ordering, thumbnails, CPU fusion + LUT, texture
// packing, profile report; no Android imports) and `app` (camera2 capture, ExecuTorch / LiteRT predictors,
// the GLES 3.0 renderer, UI, benchmark mode).
pluginManagement {
    repositories {
        google()
        mavenCentral()
        gradlePluginPortal()
    }
}

dependencyResolutionManagement {
    repositories {
        google()
        mavenCentral()
    }
}

rootProject.name = "edgemef-android-demo"
include(":core", ":app")
