#if canImport(CoreML) && canImport(CoreImage) && canImport(UIKit)
    import EdgeMEFCore
    import Foundation
    import UIKit

    /// Benchmark mode: fuses one bracket `warmup + runs` times with one artifact and writes the timings as an
    /// `edgemef profile` report (schema 2) to Documents, atomically. Every run decodes the files, fuses and
    /// encodes a JPEG, so the stages are decode, thumbnails, predictor, apply, encode. Progress and the result
    /// go to the log (`xcrun devicectl device process launch --console` shows it); a failure is written beside
    /// the report as `<report>.error.txt`, so whoever pulls the report finds the reason instead.
    public enum BenchmarkRunner {
        /// `machine`: the device in words (`DeviceInfo.description`, read on the main actor).
        public static func run(
            _ request: BenchmarkRequest, machine: String, progress: (String) -> Void
        ) -> Result<URL, Error> {
            let documents = Artifacts.documents
            let reportURL = documents.appendingPathComponent(request.report)
            let errorURL = documents.appendingPathComponent(request.report + ".error.txt")
            try? FileManager.default.removeItem(at: errorURL)
            do {
                let artifact = try Artifacts.open(BenchmarkRequest.resolve(request.artifact, in: documents))
                let files = try ImageFiles.bracket(in: BenchmarkRequest.resolve(request.bracket, in: documents))
                let pipeline = try FusionPipeline(artifact: artifact, units: request.units)
                var timings: [String: [Double]] = [:]
                var names: [String] = []
                var size = (0, 0)
                for run in 0..<(request.warmup + request.runs) {
                    var clock = Stopwatch()
                    let photos = try files.map(ImageFiles.decode)
                    var stages = [("decode", clock.lap())]
                    let result = try pipeline.fuse(photos)
                    stages += result.stages
                    clock = Stopwatch()
                    _ = try ImageFiles.jpeg(result.image)
                    stages.append(("encode", clock.lap()))
                    size = (result.image.width, result.image.height)
                    progress(
                        run < request.warmup
                            ? "warm-up \(run + 1)/\(request.warmup)" : "run \(run - request.warmup + 1)/\(request.runs)"
                    )
                    if run >= request.warmup {
                        names = stages.map(\.0)
                        for (name, ms) in stages {
                            timings[name, default: []].append(ms)
                        }
                    }
                }
                let report = try ProfileReport(
                    contract: artifact.contract, artifactFile: artifact.url.lastPathComponent,
                    sizeBytes: try Artifacts.size(artifact.url), stages: names.map { ($0, timings[$0]!) },
                    machineKind: DeviceInfo.kind, machine: machine,
                    computeUnits: request.units, width: size.0, height: size.1, maxRssBytes: DeviceInfo.peakFootprint(),
                    inputBytes: size.0 * size.1 * 3 * files.count)
                try ImageFiles.writeAtomically(report.json(), to: reportURL)
                progress("benchmark report written to \(reportURL.path)")
                return .success(reportURL)
            } catch {
                try? ImageFiles.writeAtomically(Data("\(error)\n".utf8), to: errorURL)
                progress("benchmark failed: \(error)")
                return .failure(error)
            }
        }
    }

    /// The machine, named as it is.
    public enum DeviceInfo {
        public static var kind: String {
            #if targetEnvironment(simulator)
                return "ios-simulator"
            #else
                return "ios-device"
            #endif
        }

        /// The hardware model identifier (e.g. iPhone15,2), the OS version and the Core ML compute units.
        @MainActor
        public static func description(units: String) -> String {
            var system = utsname()
            uname(&system)
            let model = withUnsafeBytes(of: &system.machine) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            let device = UIDevice.current
            return "\(model) (\(device.model)), \(device.systemName) \(device.systemVersion), "
                + "Core ML compute units \(units)"
        }

        /// The process's peak physical footprint, in bytes (what iOS's memory limit counts).
        public static func peakFootprint() -> Int {
            var info = task_vm_info_data_t()
            var count = mach_msg_type_number_t(MemoryLayout<task_vm_info_data_t>.size / MemoryLayout<natural_t>.size)
            let status = withUnsafeMutablePointer(to: &info) {
                $0.withMemoryRebound(to: integer_t.self, capacity: Int(count)) {
                    task_info(mach_task_self_, task_flavor_t(TASK_VM_INFO), $0, &count)
                }
            }
            return status == KERN_SUCCESS ? Int(info.ledger_phys_footprint_peak) : 0
        }
    }
#endif
