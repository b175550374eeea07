import Foundation

/// Did a captured bracket get the exposures it asked for? The camera may clamp a bias (a bright scene at its
/// shortest exposure, a dark one at its longest ISO): such a bracket would fuse into a picture the model was
/// not trained for, so it is refused, not fused.
public enum BracketCheck {
    /// EV of each frame relative to the frame asked at bias 0 (or the middle one), from EXIF exposure
    /// time x ISO / f-number^2.
    public static func measuredBias(_ exposures: [ExposureInfo], requested: [Double]) throws -> [Double] {
        guard exposures.count == requested.count, !exposures.isEmpty else {
            throw FrameError("the camera returned \(exposures.count) photos for \(requested.count) exposures")
        }
        guard exposures.allSatisfy({ $0.exposureTime != nil && $0.exposureTime! > 0 }) else {
            throw FrameError("a photo of the bracket has no exposure time in its metadata")
        }
        let useIso = exposures.allSatisfy { ($0.iso ?? 0) > 0 }
        let useAperture = exposures.allSatisfy { ($0.fNumber ?? 0) > 0 }
        let values = exposures.map {
            BracketOrder.relativeExposure($0, useIso: useIso, useAperture: useAperture)
        }
        let reference = requested.firstIndex(of: 0) ?? requested.count / 2
        return values.map { log2($0 / values[reference]) + requested[reference] }
    }

    /// Throws unless every photo's exposure is within `tolerance` EV of what was asked.
    public static func verify(_ exposures: [ExposureInfo], requested: [Double], tolerance: Double = 0.5) throws {
        let measured = try measuredBias(exposures, requested: requested)
        for (asked, got) in zip(requested, measured) where abs(asked - got) > tolerance {
            throw FrameError(
                String(
                    format: "the camera did not apply the bracket: asked %+.1f EV, the photo is at %+.1f EV "
                        + "(try a scene that is neither very bright nor very dark)", asked, got))
        }
    }
}
