import Foundation

/// A contract that cannot be used, in one line naming the problem.
public struct ContractError: Error, CustomStringConvertible, Equatable {
    public let message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}

/// One input or output tensor of a model file (the schema's `$defs/tensors` item).
public struct TensorSpec: Codable, Equatable {
    public let name: String
    public let shape: [Int]
    public let dtype: DType
    public let layout: String
    public let description: String
    public let runtimeName: String
    public let index: Int
    public let valueRange: [Double]?

    public enum DType: String, Codable {
        case float32, float16, int8, uint8, int32, int64
    }

    enum CodingKeys: String, CodingKey {
        case name, shape, dtype, layout, description, index
        case runtimeName = "runtime_name"
        case valueRange = "value_range"
    }
}

/// A further graph of a multi-graph model (IPL's "replay"), in its own file.
public struct GraphSpec: Codable, Equatable {
    public let artifact: String
    public let sha256: String
    public let inputs: [TensorSpec]
    public let outputs: [TensorSpec]
}

/// The contract beside every exported model: format version 2 (docs/contract.md,
/// edgemef/runtime/contract.schema.json). `parse` reads and validates it whole, as edgemef.runtime.contract
/// does, so an edited or foreign contract is one clear error before anything runs.
public struct Contract: Codable, Equatable {
    public static let format = "edgemef-contract"
    public static let formatVersion = 2
    static let required = [
        "format", "format_version", "model", "family", "output_kind", "target", "backend", "precision",
        "artifact", "sha256", "size_bytes", "n_exposures", "inputs", "outputs", "graphs", "preprocessing",
        "postprocessing", "toolchain",
    ]
    static let optional = ["parity", "latency", "checks", "created"]

    public enum OutputKind: String, Codable {
        case displaySRGB8 = "display-srgb8"
        case sceneLinear = "scene-linear"
    }

    public enum Backend: String, Codable {
        case executorch, coreml, litert, onnxruntime
    }

    public enum Precision: String, Codable {
        case fp32, fp16, int8
    }

    public let format: String
    public let formatVersion: Int
    public let model: String
    public let family: String
    public let outputKind: OutputKind
    public let target: String
    public let backend: Backend
    public let precision: Precision
    public let artifact: String
    public let sha256: String
    public let sizeBytes: Int
    public let nExposures: Int
    public let inputs: [TensorSpec]
    public let outputs: [TensorSpec]
    public let graphs: [String: GraphSpec]
    public let preprocessing: [String: JSONValue]
    public let postprocessing: [String: JSONValue]
    public let toolchain: [String: String]
    public let parity: JSONValue?
    public let latency: JSONValue?
    public let checks: JSONValue?
    public let created: String?

    enum CodingKeys: String, CodingKey {
        case format, model, family, target, backend, precision, artifact, sha256, inputs, outputs, graphs
        case preprocessing, postprocessing, toolchain, parity, latency, checks, created
        case formatVersion = "format_version"
        case outputKind = "output_kind"
        case sizeBytes = "size_bytes"
        case nExposures = "n_exposures"
    }

    /// Parse and validate a contract; any problem is one `ContractError` naming it.
    public static func parse(_ data: Data) throws -> Contract {
        let fields: [String: JSONValue]
        do {
            fields = try JSONDecoder().decode([String: JSONValue].self, from: data)
        } catch {
            throw ContractError("not a JSON object")
        }
        guard fields["format"] == .string(format) else {
            throw ContractError("not an edgemef contract (format \(describe(fields["format"])))")
        }
        guard fields["format_version"]?.intValue == formatVersion else {
            throw ContractError(
                "contract format version \(describe(fields["format_version"])), this app reads version "
                    + "\(formatVersion)")
        }
        let known = Set(required + optional)
        if let unknown = fields.keys.sorted().first(where: { !known.contains($0) }) {
            throw ContractError("malformed contract (unknown field \(unknown))")
        }
        if let missing = required.first(where: { fields[$0] == nil || fields[$0] == .null }) {
            throw ContractError("malformed contract (\(missing) is missing)")
        }
        let contract: Contract
        do {
            contract = try JSONDecoder().decode(Contract.self, from: data)
        } catch let error as DecodingError {
            throw ContractError("malformed contract (\(location(of: error)))")
        }
        try contract.validate()
        return contract
    }

    private func validate() throws {
        for (key, value) in [("model", model), ("family", family), ("target", target)] where value.isEmpty {
            throw ContractError("malformed contract (\(key) must be a non-empty string)")
        }
        try Contract.checkFileName(artifact, "artifact")
        try Contract.checkSha256(sha256, "sha256")
        if sizeBytes < 0 {
            throw ContractError("malformed contract (size_bytes must be an integer >= 0)")
        }
        if nExposures < 2 {
            throw ContractError("malformed contract (n_exposures must be an integer >= 2)")
        }
        try Contract.checkTensors(inputs, "inputs")
        try Contract.checkTensors(outputs, "outputs")
        for name in graphs.keys.sorted() {
            let graph = graphs[name]!
            try Contract.checkFileName(graph.artifact, "graphs.\(name).artifact")
            try Contract.checkSha256(graph.sha256, "graphs.\(name).sha256")
            try Contract.checkTensors(graph.inputs, "graphs.\(name).inputs")
            try Contract.checkTensors(graph.outputs, "graphs.\(name).outputs")
        }
    }

    static func checkFileName(_ name: String, _ key: String) throws {
        if name.isEmpty || name.contains("/") || name.contains("\\") {
            throw ContractError("malformed contract (\(key) must be a file name, not a path)")
        }
    }

    static func checkSha256(_ digest: String, _ key: String) throws {
        let hex = Set("0123456789abcdef")
        if digest.count != 64 || !digest.allSatisfy({ hex.contains($0) }) {
            throw ContractError("malformed contract (\(key) must be 64 lowercase hex digits)")
        }
    }

    static func checkTensors(_ tensors: [TensorSpec], _ key: String) throws {
        if tensors.isEmpty {
            throw ContractError("malformed contract (\(key) must be a non-empty list of tensors)")
        }
        if Set(tensors.map(\.name)).count != tensors.count {
            throw ContractError("malformed contract (\(key): tensor names repeat)")
        }
        for tensor in tensors {
            if tensor.name.isEmpty || tensor.runtimeName.isEmpty || tensor.layout.isEmpty {
                throw ContractError("malformed contract (a tensor of \(key) has an empty name or layout)")
            }
            if tensor.shape.isEmpty || tensor.shape.contains(where: { $0 < 1 }) {
                throw ContractError("malformed contract (tensor \(tensor.name) of \(key) has a bad shape)")
            }
            if tensor.index < 0 {
                throw ContractError("malformed contract (tensor \(tensor.name) of \(key) has a negative index)")
            }
        }
    }

    private static func describe(_ value: JSONValue?) -> String {
        switch value {
        case .none, .some(.null): return "missing"
        case .some(.string(let text)): return text
        case .some(.number(let number)):
            return number.rounded() == number ? String(Int(number)) : String(number)
        default: return "of the wrong type"
        }
    }

    /// Where a decoding error is, as the contract's own key path ("inputs.0.dtype: ...").
    private static func location(of error: DecodingError) -> String {
        func path(_ keys: [CodingKey]) -> String {
            keys.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
        }
        switch error {
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            return "\(path(context.codingPath)) has the wrong type"
        case .keyNotFound(let key, let context):
            return "\(path(context.codingPath + [key])) is missing"
        case .dataCorrupted(let context):
            return "\(path(context.codingPath)) is not a known value"
        @unknown default:
            return "\(error)"
        }
    }

    /// The output or input called `name`.
    public func tensor(_ name: String) throws -> TensorSpec {
        if let found = outputs.first(where: { $0.name == name }) ?? inputs.first(where: { $0.name == name }) {
            return found
        }
        throw ContractError("the contract has no tensor named \(name)")
    }

    /// The family of the adaptive LUT model, whose weights are weight maps.
    public static let adaptiveFamily = "lut-adaptive"
    /// The longest side of a weight map the appliers take (edgemef.lut.MAX_MAP_SIDE).
    public static let maxMapSide = 256

    /// LUT-distill and the adaptive model: the weights' map size (rows, columns), (1, 1) for one weight per
    /// exposure (weights (1, N)); the adaptive model's maps (1, N, Gh, Gw) come with their sampling rule
    /// (postprocessing.weight_maps).
    public func weightMapSize() throws -> (rows: Int, columns: Int) {
        let weights = try tensor("weights").shape
        guard family == Contract.adaptiveFamily else {
            guard weights == [1, nExposures] else {
                throw ContractError("weights shape is not (1, \(nExposures))")
            }
            return (1, 1)
        }
        guard weights.count == 4, weights[0] == 1, weights[1] == nExposures,
            weights[2] <= Contract.maxMapSide, weights[3] <= Contract.maxMapSide
        else {
            throw ContractError(
                "weights shape is not (1, \(nExposures), Gh, Gw) weight maps of at most \(Contract.maxMapSide) cells a side"
            )
        }
        guard postprocessing["weight_maps"] != nil else {
            throw ContractError("postprocessing.weight_maps (how the weight maps are sampled) is missing")
        }
        return (weights[2], weights[3])
    }

    /// LUT-distill: the LUT's side, from the "lut" output's shape (1, S, S, S, 3), checked whole.
    public func lutGrid() throws -> Int {
        let lut = try tensor("lut").shape
        guard lut.count == 5, lut[0] == 1, lut[4] == 3, lut[1] == lut[2], lut[2] == lut[3], lut[1] >= 2 else {
            throw ContractError("lut shape is not (1, S, S, S, 3)")
        }
        _ = try weightMapSize()
        guard postprocessing["grid_size"]?.intValue == lut[1] else {
            throw ContractError("postprocessing.grid_size differs from the LUT's side \(lut[1])")
        }
        return lut[1]
    }

    /// LUT-distill: the thumbnails' side, checked against the input's shape (1, 3N, T, T).
    public func thumbnailSize() throws -> Int {
        let shape = try tensor("thumbnails").shape
        guard let size = preprocessing["thumbnail_size"]?.intValue, size >= 1,
            shape == [1, 3 * nExposures, size, size]
        else {
            throw ContractError(
                "thumbnails are not (1, \(3 * nExposures), T, T) with T = preprocessing.thumbnail_size")
        }
        return size
    }

    /// What the app can fuse: LUT-distill and adaptive LUT artifacts that give an 8-bit picture.
    public func checkLutDistill() throws {
        guard family == "lut-distill" || family == Contract.adaptiveFamily, outputKind == .displaySRGB8 else {
            throw ContractError(
                "this app fuses LUT-distill and adaptive LUT artifacts; this contract is a \(family) model "
                    + "(\(outputKind.rawValue))")
        }
        _ = try lutGrid()
        _ = try thumbnailSize()
    }
}
