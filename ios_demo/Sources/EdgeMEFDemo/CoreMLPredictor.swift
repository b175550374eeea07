#if canImport(CoreML)
    import CoreML
    import EdgeMEFCore
    import Foundation

    /// The network of a LUT-distill artifact in Core ML: thumbnails in, one weight per exposure and the LUT out,
    /// tensors found by the contract's runtime names and checked against the model's own description.
    public final class CoreMLPredictor {
        public let contract: Contract
        public let grid: Int
        /// The weights' map size: (1, 1) for one weight per exposure, the adaptive model's map cells otherwise.
        public let mapSize: (rows: Int, columns: Int)
        public let thumbnailSize: Int
        let model: MLModel
        let input: TensorSpec
        let weights: TensorSpec
        let lut: TensorSpec

        /// The compute units the UI and benchmark mode offer, by the names benchmark mode takes.
        public static func computeUnits(_ name: String) throws -> MLComputeUnits {
            switch name {
            case "all": return .all
            case "cpuAndGPU": return .cpuAndGPU
            case "cpuOnly": return .cpuOnly
            case "cpuAndNeuralEngine": return .cpuAndNeuralEngine
            default: throw FrameError("unknown compute units \(name)")
            }
        }

        /// `artifact`: the `.mlpackage` the contract describes (its sha256 already checked: `Artifacts.open`).
        public init(artifact: URL, contract: Contract, units: MLComputeUnits) throws {
            guard contract.backend == .coreml else {
                throw ContractError(
                    "this app runs Core ML artifacts; the contract's backend is \(contract.backend.rawValue)")
            }
            try contract.checkLutDistill()
            self.contract = contract
            grid = try contract.lutGrid()
            mapSize = try contract.weightMapSize()
            thumbnailSize = try contract.thumbnailSize()
            input = try contract.tensor("thumbnails")
            weights = try contract.tensor("weights")
            lut = try contract.tensor("lut")
            let configuration = MLModelConfiguration()
            configuration.computeUnits = units
            let compiled = try MLModel.compileModel(at: artifact)
            model = try MLModel(contentsOf: compiled, configuration: configuration)
            let description = model.modelDescription
            guard let constraint = description.inputDescriptionsByName[input.runtimeName]?.multiArrayConstraint,
                constraint.shape.map(\.intValue) == input.shape
            else {
                throw ContractError("the model has no input \(input.runtimeName) of shape \(input.shape)")
            }
            for tensor in [weights, lut] where description.outputDescriptionsByName[tensor.runtimeName] == nil {
                throw ContractError("the model has no output \(tensor.runtimeName)")
            }
        }

        /// `thumbnails`: 3N x T x T floats (Thumbnails.networkInput).
        public func predict(_ thumbnails: [Float]) throws -> (weights: [Float], lut: [Float]) {
            let count = input.shape.reduce(1, *)
            guard thumbnails.count == count else {
                throw FrameError("the network takes \(count) values, got \(thumbnails.count)")
            }
            let array = try MLMultiArray(shape: input.shape.map { NSNumber(value: $0) }, dataType: .float32)
            let shape = input.shape
            array.withUnsafeMutableBufferPointer(ofType: Float.self) { buffer, strides in
                for flat in 0..<count {
                    buffer[CoreMLPredictor.offset(flat, shape: shape, strides: strides)] = thumbnails[flat]
                }
            }
            let features = try MLDictionaryFeatureProvider(dictionary: [
                input.runtimeName: MLFeatureValue(multiArray: array)
            ])
            let output = try model.prediction(from: features)
            return (try floats(output, weights), try floats(output, lut))
        }

        /// An output as floats in row-major order of the contract's shape, whatever the array's strides and type.
        func floats(_ output: MLFeatureProvider, _ tensor: TensorSpec) throws -> [Float] {
            guard let array = output.featureValue(for: tensor.runtimeName)?.multiArrayValue,
                array.shape.map(\.intValue).reduce(1, *) == tensor.shape.reduce(1, *)
            else {
                throw ContractError("the model's output \(tensor.runtimeName) is not \(tensor.shape)")
            }
            let shape = array.shape.map(\.intValue)
            let strides = array.strides.map(\.intValue)
            let count = shape.reduce(1, *)
            func offset(_ flat: Int) -> Int {
                CoreMLPredictor.offset(flat, shape: shape, strides: strides)
            }
            switch array.dataType {
            case .float32:
                return array.withUnsafeBufferPointer(ofType: Float.self) { buffer in
                    (0..<count).map { buffer[offset($0)] }
                }
            case .double:
                return array.withUnsafeBufferPointer(ofType: Double.self) { buffer in
                    (0..<count).map { Float(buffer[offset($0)]) }
                }
            default:
                return (0..<count).map { array[offset($0)].floatValue }
            }
        }

        /// Where the `flat`-th element in row-major order lies in an array of `strides`.
        static func offset(_ flat: Int, shape: [Int], strides: [Int]) -> Int {
            var rest = flat
            var offset = 0
            for axis in (0..<shape.count).reversed() {
                offset += (rest % shape[axis]) * strides[axis]
                rest /= shape[axis]
            }
            return offset
        }
    }
#endif
