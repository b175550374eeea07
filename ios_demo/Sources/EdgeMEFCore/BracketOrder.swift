import Foundation

/// Darkest to brightest, decided as edgemef.io.order_by_exposure does: by EXIF exposure time x ISO / 100 /
/// f-number^2 (each factor only when every frame has it) when every frame has an exposure time and the
/// values all differ, else by mean Rec.601 luma of every 4th pixel of every 4th row.
public enum BracketOrder {
    public enum Basis: String {
        case exif, luminance
    }

    /// The permutation (indices into `frames`), darkest first, and what decided it.
    public static func order(_ frames: [Frame]) -> (order: [Int], basis: Basis) {
        let exposures = frames.map(\.exposure)
        if !exposures.isEmpty, exposures.allSatisfy({ $0.exposureTime != nil }) {
            let useIso = exposures.allSatisfy { $0.iso != nil }
            let useAperture = exposures.allSatisfy { $0.fNumber != nil }
            let values = exposures.map { relativeExposure($0, useIso: useIso, useAperture: useAperture) }
            if Set(values).count == values.count {
                return (sortedIndices(values), .exif)
            }
        }
        return (sortedIndices(frames.map(meanLuminance)), .luminance)
    }

    /// Exposure time x ISO / 100 / f-number^2, each factor only when asked for.
    public static func relativeExposure(_ exposure: ExposureInfo, useIso: Bool, useAperture: Bool) -> Double {
        var value = exposure.exposureTime ?? 0
        if useIso, let iso = exposure.iso {
            value *= iso / 100.0
        }
        if useAperture, let fNumber = exposure.fNumber {
            value /= fNumber * fNumber
        }
        return value
    }

    /// Mean Rec.601 luma (0.299 R + 0.587 G + 0.114 B) of every 4th pixel of every 4th row.
    public static func meanLuminance(_ frame: Frame) -> Double {
        var sum = 0.0
        var count = 0
        frame.rgb.withUnsafeBufferPointer { rgb in
            for y in stride(from: 0, to: frame.height, by: 4) {
                for x in stride(from: 0, to: frame.width, by: 4) {
                    let at = (y * frame.width + x) * 3
                    sum += 0.299 * Double(rgb[at]) + 0.587 * Double(rgb[at + 1]) + 0.114 * Double(rgb[at + 2])
                    count += 1
                }
            }
        }
        return sum / Double(count)
    }

    /// Indices sorted by value; equal values keep their order (as Python's sorted).
    static func sortedIndices(_ values: [Double]) -> [Int] {
        values.indices.sorted { values[$0] < values[$1] || (values[$0] == values[$1] && $0 < $1) }
    }
}
