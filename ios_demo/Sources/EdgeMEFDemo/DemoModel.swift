#if canImport(SwiftUI) && canImport(UIKit) && canImport(Photos) && canImport(CoreML)
    import EdgeMEFCore
    import Foundation
    import Photos
    import PhotosUI
    import SwiftUI

    /// The app's state: the chosen artifact and compute units, the bracket (captured or picked), the result and
    /// its per-stage timings, and what went wrong, in words.
    @MainActor
    public final class DemoModel: ObservableObject {
        @Published public var artifacts: [URL] = Artifacts.available()
        @Published public var artifact: URL? {
            didSet { exposures = DemoModel.exposures(of: artifact) }
        }
        /// The number of exposures the chosen artifact fuses, from its contract (3 until one is chosen).
        @Published public private(set) var exposures = 3
        @Published public var units = "all"
        @Published public var photos: [DecodedPhoto] = []
        @Published public var result: FusionResult?
        @Published public var status = ""
        @Published public var busy = false
        @Published public var pickerItems: [PhotosPickerItem] = []
        public let capture = BracketCapture()
        var pipeline: (key: String, pipeline: FusionPipeline)?
        var cameraReady = false
        var launchArgumentsRead = false

        public init() {
            artifact = artifacts.first
            exposures = DemoModel.exposures(of: artifact)
            if artifacts.isEmpty {
                status =
                    "No artifacts: run `edgemef convert --target ios --out ios_demo/Artifacts` before building, "
                    + "or copy an .mlpackage and its .json into the app's Documents folder."
            }
        }

        /// Benchmark mode, when the launch arguments ask for it (once per launch).
        public func benchmarkFromLaunchArguments() {
            guard !launchArgumentsRead else { return }
            launchArgumentsRead = true
            do {
                if let request = try BenchmarkRequest.from(arguments: ProcessInfo.processInfo.arguments) {
                    benchmark(request)
                }
            } catch {
                status = "benchmark mode: \(error)"
            }
        }

        /// Benchmark mode from an `edgemef://benchmark?...` URL.
        public func open(_ url: URL) {
            do {
                if let request = try BenchmarkRequest.from(url: url) {
                    benchmark(request)
                }
            } catch {
                status = "benchmark mode: \(error)"
            }
        }

        func benchmark(_ request: BenchmarkRequest) {
            busy = true
            status = "benchmark: \(request.artifact), \(request.runs) runs"
            let machine = DeviceInfo.description(units: request.units)
            Task.detached(priority: .userInitiated) {
                let outcome = BenchmarkRunner.run(request, machine: machine) { line in
                    print("edgemef: \(line)")
                }
                await MainActor.run {
                    self.busy = false
                    switch outcome {
                    case .success(let url):
                        self.status = "benchmark report written to Documents/\(url.lastPathComponent)"
                    case .failure(let error): self.status = "benchmark failed: \(error)"
                    }
                }
            }
        }

        /// The pipeline of the chosen artifact and compute units; opening one (sha256, Core ML's compile)
        /// runs off the main actor.
        func currentPipeline() async throws -> FusionPipeline {
            guard let artifact = artifact else {
                throw FrameError("no artifact chosen")
            }
            let units = self.units
            let key = "\(artifact.path)|\(units)"
            if let cached = pipeline, cached.key == key {
                return cached.pipeline
            }
            let made = try await Task.detached(priority: .userInitiated) {
                try FusionPipeline(artifact: Artifacts.open(artifact), units: units)
            }.value
            pipeline = (key, made)
            return made
        }

        /// The biases a capture asks for, in words: "-2 / +0 / +2".
        public var biasLabel: String {
            BracketCapture.biases(count: exposures).map { String(format: "%+.0f", $0) }.joined(separator: " / ")
        }

        static func exposures(of artifact: URL?) -> Int {
            guard let artifact = artifact, let data = try? Data(contentsOf: Artifacts.contractURL(artifact)) else {
                return 3
            }
            return (try? Contract.parse(data))?.nExposures ?? 3
        }

        public func startCamera() async {
            do {
                if !cameraReady {
                    try await capture.configure()
                    cameraReady = true
                }
                capture.start()
            } catch {
                status = "\(error)"
            }
        }

        public func captureBracket() async {
            busy = true
            defer { busy = false }
            do {
                photos = try await capture.capture(count: exposures)
                await fuse()
            } catch {
                status = "capture: \(error)"
            }
        }

        /// The photos picked in the library, decoded with their EXIF.
        public func loadPicked() async {
            guard !pickerItems.isEmpty else { return }
            busy = true
            defer { busy = false }
            do {
                var loaded: [DecodedPhoto] = []
                for (index, item) in pickerItems.enumerated() {
                    guard let data = try await item.loadTransferable(type: Data.self) else {
                        throw FrameError("photo \(index + 1) could not be loaded")
                    }
                    loaded.append(try ImageFiles.decode(data, name: "picked_\(index + 1)"))
                }
                photos = loaded
                await fuse()
            } catch {
                status = "library: \(error)"
            }
        }

        public func fuse() async {
            let photos = self.photos
            do {
                let pipeline = try await currentPipeline()
                let result = try await Task.detached(priority: .userInitiated) { try pipeline.fuse(photos) }.value
                self.result = result
                let total = result.stages.map(\.1).reduce(0, +)
                status = String(
                    format: "fused %ldx%ld in %.0f ms (order by %@)", result.image.width, result.image.height,
                    total, result.orderedBy.rawValue)
            } catch {
                result = nil
                status = "\(error)"
            }
        }

        /// Saves the result to Photos as a JPEG (asks for add-only access).
        public func save() async {
            guard let image = result?.image else { return }
            do {
                let data = try ImageFiles.jpeg(image)
                guard await PHPhotoLibrary.requestAuthorization(for: .addOnly) == .authorized else {
                    throw FrameError("the app may not add to Photos (Settings > Privacy > Photos)")
                }
                try await PHPhotoLibrary.shared().performChanges {
                    PHAssetCreationRequest.forAsset().addResource(with: .photo, data: data, options: nil)
                }
                status = "saved to Photos"
            } catch {
                status = "save: \(error)"
            }
        }
    }
#endif
