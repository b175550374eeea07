// The edgemef Android demo. Modules: core (plain Java: contract, ordering, thumbnails, CPU fusion + LUT,
// texture packing; no Android imports). The app module (camera, predictor, GL, UI) builds on it.
rootProject.name = "edgemef-android-demo"
include(":core")
