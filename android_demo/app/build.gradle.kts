// The app for phones. The runtimes are pinned to the exporters in edgemef's pyproject.toml: an artifact runs
// in the runtime version that wrote it.
//   org.pytorch:executorch-android   <-> executorch (pip)      1.5.1  (.pte from `edgemef convert --target android`)
//   com.google.ai.edge.litert:litert <-> ai-edge-litert (pip)  2.3.0  (.tflite from `--runtime litert`)
val executorchVersion = "1.5.1"
val litertVersion = "2.3.0"

plugins {
    id("com.android.application")
}

android {
    namespace = "org.edgemef.demo"
    compileSdk = 34

    defaultConfig {
        applicationId = "org.edgemef.demo"
        minSdk = 24 // LiteRT 2.3.0's AARs declare 24
        targetSdk = 34
        versionCode = 1
        versionName = "0.1"
    }

    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_1_8
        targetCompatibility = JavaVersion.VERSION_1_8
    }

    sourceSets {
        getByName("main") {
            // the package's shipped int8 LiteRT students (and their contracts), bundled as the default model
            assets.srcDirs("src/main/assets", "../../edgemef/artifacts")
        }
    }

    androidResources {
        ignoreAssetsPattern = "!*.py:!__pycache__"
        noCompress += "tflite"
    }
}

dependencies {
    implementation(project(":core"))
    implementation("org.pytorch:executorch-android:$executorchVersion")
    implementation("com.google.ai.edge.litert:litert:$litertVersion")
}
