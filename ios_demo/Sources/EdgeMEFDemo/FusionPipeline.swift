#if canImport(CoreML) && canImport(CoreImage) && canImport(ImageIO)
    import CoreGraphics
    import EdgeMEFCore
    import Foundation

    /// One fusion's result and the time of each stage, in milliseconds, in the order they ran.
    public struct FusionResult {
        public let image: CGImage
        /// One weight per frame, or the adaptive model's weight maps (frame, row, column; column fastest).
        public let weights: [Float]
        public let mapSize: (rows: Int, columns: Int)
        public let order: [Int]
        public let orderedBy: BracketOrder.Basis
        public let stages: [(String, Double)]
    }

    /// thumbnails (EdgeMEFCore, as edgemef.runtime.preprocess) -> predictor (Core ML) -> apply (Core Image):
    /// the stages `edgemef profile` reports for LUT-distill, with the same names.
    public final class FusionPipeline {
        public let predictor: CoreMLPredictor
        let applier = LutApplier()

        public init(artifact: OpenedArtifact, units: String) throws {
            predictor = try CoreMLPredictor(
                artifact: artifact.url, contract: artifact.contract, units: CoreMLPredictor.computeUnits(units))
        }

        /// Fuses `photos` in any order (they are put darkest first here).
        public func fuse(_ photos: [DecodedPhoto]) throws -> FusionResult {
            try Frame.checkBracket(photos.map(\.frame), expected: predictor.contract.nExposures)
            var stages: [(String, Double)] = []
            let (order, basis) = BracketOrder.order(photos.map(\.frame))
            let ordered = order.map { photos[$0] }
            var clock = Stopwatch()
            let thumbnails = Thumbnails.networkInput(ordered.map(\.frame), size: predictor.thumbnailSize)
            stages.append(("thumbnails", clock.lap()))
            let (weights, lut) = try predictor.predict(thumbnails)
            stages.append(("predictor", clock.lap()))
            let image = try applier.apply(
                ordered.map(\.image), weights: weights, mapSize: predictor.mapSize, lut: lut, size: predictor.grid)
            stages.append(("apply", clock.lap()))
            return FusionResult(
                image: image, weights: weights, mapSize: predictor.mapSize, order: order, orderedBy: basis,
                stages: stages)
        }
    }

    /// Milliseconds since the last lap, on the monotonic clock.
    public struct Stopwatch {
        var last = DispatchTime.now().uptimeNanoseconds

        public init() {}

        public mutating func lap() -> Double {
            let now = DispatchTime.now().uptimeNanoseconds
            defer { last = now }
            return Double(now - last) / 1e6
        }
    }
#endif
