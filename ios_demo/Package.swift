// swift-tools-version:5.9
// EdgeMEFCore: the iOS demo's platform-neutral core (Foundation only), built and tested on Linux as well.
// EdgeMEFDemo: the app's camera, CoreML, Core Image and SwiftUI code; every file is guarded by
// `#if canImport(...)`, so on Linux this target builds empty (its sources are parsed, not type-checked).
import PackageDescription

let package = Package(
    name: "EdgeMEF",
    platforms: [.iOS(.v17), .macOS(.v14)],
    products: [
        .library(name: "EdgeMEFCore", targets: ["EdgeMEFCore"]),
        .library(name: "EdgeMEFDemo", targets: ["EdgeMEFDemo"]),
    ],
    targets: [
        .target(name: "EdgeMEFCore", path: "Sources/EdgeMEFCore"),
        .target(name: "EdgeMEFDemo", dependencies: ["EdgeMEFCore"], path: "Sources/EdgeMEFDemo"),
        .testTarget(name: "EdgeMEFCoreTests", dependencies: ["EdgeMEFCore"], path: "Tests/EdgeMEFCoreTests"),
    ]
)
