import Foundation

/// A benchmark run on the phone as a report in the schema of `edgemef profile` (edgemef/profile/schema.py,
/// version 2), so `edgemef profile --render` draws it like a desktop report. The machine is named as it is:
/// the kind ("ios-device" or "ios-simulator") and the device's own description; the paper's claims are judged
/// by the Python side, against the kind, when it renders.
public struct ProfileReport: Codable, Equatable {
    public static let schemaVersion = 2
    public static let producer = "ios_demo benchmark mode"

    /// Median, p90 (linear interpolation, as numpy's percentile), min, max and every run, in ms.
    public struct Summary: Codable, Equatable {
        public let medianMs: Double
        public let p90Ms: Double
        public let minMs: Double
        public let maxMs: Double
        public let runsMs: [Double]

        enum CodingKeys: String, CodingKey {
            case medianMs = "median_ms"
            case p90Ms = "p90_ms"
            case minMs = "min_ms"
            case maxMs = "max_ms"
            case runsMs = "runs_ms"
        }

        public init(_ runs: [Double]) throws {
            guard !runs.isEmpty else {
                throw FrameError("a summary needs at least one run")
            }
            let sorted = runs.sorted()
            medianMs = Summary.round(Summary.percentile(sorted, 50))
            p90Ms = Summary.round(Summary.percentile(sorted, 90))
            minMs = Summary.round(sorted[0])
            maxMs = Summary.round(sorted[sorted.count - 1])
            runsMs = runs.map(Summary.round)
        }

        static func percentile(_ sorted: [Double], _ q: Double) -> Double {
            let position = Double(sorted.count - 1) * q / 100.0
            let below = Int(position.rounded(.down))
            let above = min(below + 1, sorted.count - 1)
            return sorted[below] + (sorted[above] - sorted[below]) * (position - Double(below))
        }

        static func round(_ v: Double) -> Double {
            (v * 1000.0).rounded() / 1000.0
        }
    }

    public struct Artifact: Codable, Equatable {
        public let file: String
        public let model: String
        public let family: String
        public let backend: String
        public let precision: String
        public let settings: String
        public let nExposures: Int
        public let sizeBytes: Int

        enum CodingKeys: String, CodingKey {
            case file, model, family, backend, precision, settings
            case nExposures = "n_exposures"
            case sizeBytes = "size_bytes"
        }
    }

    public struct Machine: Codable, Equatable {
        public let kind: String
        public let description: String
        public let threadsUsed: Int
        public let computeUnits: String

        enum CodingKeys: String, CodingKey {
            case kind, description
            case threadsUsed = "threads_used"
            case computeUnits = "compute_units"
        }
    }

    public struct Memory: Codable, Equatable {
        public let peakTracedBytes: Int
        public let maxRssBytes: Int
        public let inputBytes: Int

        enum CodingKeys: String, CodingKey {
            case peakTracedBytes = "peak_traced_bytes"
            case maxRssBytes = "max_rss_bytes"
            case inputBytes = "input_bytes"
        }
    }

    public struct Operators: Codable, Equatable {
        public let available: Bool
        public let why: String
    }

    public let schemaVersion: Int
    public let producer: String
    public let created: String
    public let artifact: Artifact
    public let machine: Machine
    public let resolution: [Int]
    public let runs: Int
    public let threads: Int
    /// Stage name and summary, in the order the stages ran (the JSON object keeps that order).
    public let stages: [Stage]
    public let endToEnd: Summary
    public let memory: Memory
    public let operators: Operators
    public let sweep: [JSONValue]
    public let claims: [JSONValue]

    enum CodingKeys: String, CodingKey {
        case producer, created, artifact, machine, resolution, runs, threads, stages, memory, operators, sweep
        case claims
        case schemaVersion = "schema_version"
        case endToEnd = "end_to_end"
    }

    public struct Stage: Equatable {
        public let name: String
        public let summary: Summary
    }

    /// The stages as one JSON object, in order.
    struct Stages: Codable {
        let stages: [Stage]

        struct Key: CodingKey {
            let stringValue: String
            var intValue: Int? { nil }

            init(stringValue: String) {
                self.stringValue = stringValue
            }

            init?(intValue: Int) {
                nil
            }
        }

        init(_ stages: [Stage]) {
            self.stages = stages
        }

        init(from decoder: Decoder) throws {
            let container = try decoder.container(keyedBy: Key.self)
            stages = try container.allKeys.map {
                Stage(name: $0.stringValue, summary: try container.decode(Summary.self, forKey: $0))
            }
        }

        func encode(to encoder: Encoder) throws {
            var container = encoder.container(keyedBy: Key.self)
            for stage in stages {
                try container.encode(stage.summary, forKey: Key(stringValue: stage.name))
            }
        }
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        schemaVersion = try container.decode(Int.self, forKey: .schemaVersion)
        producer = try container.decode(String.self, forKey: .producer)
        created = try container.decode(String.self, forKey: .created)
        artifact = try container.decode(Artifact.self, forKey: .artifact)
        machine = try container.decode(Machine.self, forKey: .machine)
        resolution = try container.decode([Int].self, forKey: .resolution)
        runs = try container.decode(Int.self, forKey: .runs)
        threads = try container.decode(Int.self, forKey: .threads)
        stages = try container.decode(Stages.self, forKey: .stages).stages
        endToEnd = try container.decode(Summary.self, forKey: .endToEnd)
        memory = try container.decode(Memory.self, forKey: .memory)
        operators = try container.decode(Operators.self, forKey: .operators)
        sweep = try container.decode([JSONValue].self, forKey: .sweep)
        claims = try container.decode([JSONValue].self, forKey: .claims)
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(schemaVersion, forKey: .schemaVersion)
        try container.encode(producer, forKey: .producer)
        try container.encode(created, forKey: .created)
        try container.encode(artifact, forKey: .artifact)
        try container.encode(machine, forKey: .machine)
        try container.encode(resolution, forKey: .resolution)
        try container.encode(runs, forKey: .runs)
        try container.encode(threads, forKey: .threads)
        try container.encode(Stages(stages), forKey: .stages)
        try container.encode(endToEnd, forKey: .endToEnd)
        try container.encode(memory, forKey: .memory)
        try container.encode(operators, forKey: .operators)
        try container.encode(sweep, forKey: .sweep)
        try container.encode(claims, forKey: .claims)
    }

    /// The report of a benchmark: `stages` in the order they ran ("decode", the family's stages, "encode"),
    /// one value per run each; the end-to-end time of a run is the sum of its stages.
    public init(
        contract: Contract, artifactFile: String, sizeBytes: Int, stages: [(String, [Double])],
        machineKind: String, machine: String, computeUnits: String, width: Int, height: Int,
        maxRssBytes: Int, inputBytes: Int, created: Date = Date()
    ) throws {
        let names = stages.map(\.0)
        guard names.contains("decode"), names.contains("encode") else {
            throw FrameError("a report has the decode and encode stages")
        }
        guard ["ios-device", "ios-simulator"].contains(machineKind) else {
            throw FrameError("machine kind \(machineKind) is not ios-device or ios-simulator")
        }
        let runs = stages[0].1.count
        guard runs >= 1, stages.allSatisfy({ $0.1.count == runs }) else {
            throw FrameError("every stage has one value per run")
        }
        var total = [Double](repeating: 0, count: runs)
        var summaries: [Stage] = []
        for (name, values) in stages {
            for i in 0..<runs {
                total[i] += values[i]
            }
            summaries.append(Stage(name: name, summary: try Summary(values)))
        }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        schemaVersion = ProfileReport.schemaVersion
        producer = ProfileReport.producer
        self.created = formatter.string(from: created)
        let grid = (try? contract.lutGrid()).map { "grid \($0)" } ?? ""
        artifact = Artifact(
            file: artifactFile, model: contract.model, family: contract.family, backend: contract.backend.rawValue,
            precision: contract.precision.rawValue, settings: grid, nExposures: contract.nExposures,
            sizeBytes: sizeBytes)
        self.machine = Machine(kind: machineKind, description: machine, threadsUsed: 1, computeUnits: computeUnits)
        resolution = [width, height]
        self.runs = runs
        threads = 1
        self.stages = summaries
        endToEnd = try Summary(total)
        memory = Memory(peakTracedBytes: 0, maxRssBytes: maxRssBytes, inputBytes: inputBytes)
        operators = Operators(
            available: false,
            why: "the app times stages; per-operator profiles come from Xcode's Core ML instrument")
        sweep = []
        claims = []
    }

    /// The report as JSON, one top-level key a line, the stages in the order they ran.
    public func json() throws -> Data {
        guard case .object(let fields) = try JSONDecoder().decode(JSONValue.self, from: JSONEncoder().encode(self))
        else {
            throw FrameError("a report encodes as a JSON object")
        }
        let lines = fields.keys.sorted().map { key in
            "  " + JSONValue.quoted(key) + ": "
                + fields[key]!.serialized(keyOrder: key == "stages" ? stages.map(\.name) : [])
        }
        return Data(("{\n" + lines.joined(separator: ",\n") + "\n}\n").utf8)
    }
}
