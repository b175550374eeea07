import Foundation

/// What benchmark mode is asked to run: an artifact (a `.mlpackage` with its contract beside it), a bracket
/// folder, the number of timed runs and warm-up runs, the compute units and the report's file name. Paths
/// are relative to the app's Documents folder (where Finder or `xcrun devicectl device copy to` puts files)
/// unless absolute.
///
/// From launch arguments:
///     -benchmark-artifact lut-student-fp16-g33.mlpackage -benchmark-bracket rocket
///     [-benchmark-runs 20] [-benchmark-warmup 3] [-benchmark-units all|cpuAndGPU|cpuOnly|cpuAndNeuralEngine]
///     [-benchmark-report ios_report.json]
/// or a URL: edgemef://benchmark?artifact=...&bracket=...&runs=20&warmup=3&units=all&report=ios_report.json
public struct BenchmarkRequest: Equatable {
    public static let scheme = "edgemef"
    public static let computeUnits = ["all", "cpuAndGPU", "cpuOnly", "cpuAndNeuralEngine"]

    public var artifact: String
    public var bracket: String
    public var runs = 20
    public var warmup = 3
    public var units = "all"
    public var report = "ios_report.json"

    public init(artifact: String, bracket: String) {
        self.artifact = artifact
        self.bracket = bracket
    }

    /// The request in the process's launch arguments; nil when benchmark mode was not asked for.
    public static func from(arguments: [String]) throws -> BenchmarkRequest? {
        var values: [String: String] = [:]
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            if argument.hasPrefix("-benchmark-") {
                guard index + 1 < arguments.count else {
                    throw FrameError("\(argument) needs a value")
                }
                values[String(argument.dropFirst("-benchmark-".count))] = arguments[index + 1]
                index += 2
            } else {
                index += 1
            }
        }
        return values.isEmpty ? nil : try from(values: values)
    }

    /// The request in an `edgemef://benchmark?...` URL; nil for any other URL.
    public static func from(url: URL) throws -> BenchmarkRequest? {
        guard url.scheme == scheme, url.host == "benchmark",
            let items = URLComponents(url: url, resolvingAgainstBaseURL: false)?.queryItems
        else {
            return nil
        }
        var values: [String: String] = [:]
        for item in items {
            values[item.name] = item.value ?? ""
        }
        return try from(values: values)
    }

    static func from(values: [String: String]) throws -> BenchmarkRequest {
        let known: Set<String> = ["artifact", "bracket", "runs", "warmup", "units", "report"]
        if let unknown = values.keys.sorted().first(where: { !known.contains($0) }) {
            throw FrameError("unknown benchmark option \(unknown) (known: \(known.sorted().joined(separator: ", ")))")
        }
        guard let artifact = values["artifact"], !artifact.isEmpty else {
            throw FrameError("benchmark mode needs an artifact")
        }
        guard let bracket = values["bracket"], !bracket.isEmpty else {
            throw FrameError("benchmark mode needs a bracket folder")
        }
        var request = BenchmarkRequest(artifact: artifact, bracket: bracket)
        if let runs = values["runs"] {
            guard let value = Int(runs), value >= 1 else {
                throw FrameError("runs must be an integer >= 1, got \(runs)")
            }
            request.runs = value
        }
        if let warmup = values["warmup"] {
            guard let value = Int(warmup), value >= 0 else {
                throw FrameError("warmup must be an integer >= 0, got \(warmup)")
            }
            request.warmup = value
        }
        if let units = values["units"] {
            guard computeUnits.contains(units) else {
                throw FrameError("units must be one of \(computeUnits.joined(separator: ", ")), got \(units)")
            }
            request.units = units
        }
        if let report = values["report"] {
            guard !report.isEmpty, !report.contains("/"), report.hasSuffix(".json") else {
                throw FrameError("report must be a .json file name (it is written to Documents), got \(report)")
            }
            request.report = report
        }
        return request
    }

    /// `path` resolved against `documents` unless it is absolute.
    public static func resolve(_ path: String, in documents: URL) -> URL {
        path.hasPrefix("/") ? URL(fileURLWithPath: path) : documents.appendingPathComponent(path)
    }
}
