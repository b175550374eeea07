import Foundation

/// A frame's EXIF exposure: time in seconds, ISO and f-number; nil where the file does not say.
public struct ExposureInfo: Equatable {
    public var exposureTime: Double?
    public var iso: Double?
    public var fNumber: Double?

    public init(exposureTime: Double? = nil, iso: Double? = nil, fNumber: Double? = nil) {
        self.exposureTime = exposureTime
        self.iso = iso
        self.fNumber = fNumber
    }
}

/// A frame that cannot be used, in one line.
public struct FrameError: Error, CustomStringConvertible, Equatable {
    public let message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}

/// One exposure: 8-bit RGB pixels, interleaved R, G, B, row by row, and its EXIF exposure.
public struct Frame {
    public let width: Int
    public let height: Int
    public let rgb: [UInt8]
    public let exposure: ExposureInfo

    public init(width: Int, height: Int, rgb: [UInt8], exposure: ExposureInfo = ExposureInfo()) throws {
        guard width >= 1, height >= 1, rgb.count == width * height * 3 else {
            throw FrameError("a frame is width x height x 3 bytes (got \(rgb.count) for \(width) x \(height))")
        }
        self.width = width
        self.height = height
        self.rgb = rgb
        self.exposure = exposure
    }

    /// Frames of one bracket: at least two, all the same size.
    public static func checkBracket(_ frames: [Frame], expected: Int? = nil) throws {
        guard frames.count >= 2 else {
            throw FrameError("a bracket needs at least 2 frames, got \(frames.count)")
        }
        if let expected = expected, frames.count != expected {
            throw FrameError("this model fuses \(expected) exposures, the bracket has \(frames.count)")
        }
        let first = frames[0]
        if let other = frames.first(where: { $0.width != first.width || $0.height != first.height }) {
            throw FrameError(
                "the frames differ in size: \(first.width)x\(first.height) and \(other.width)x\(other.height)")
        }
    }
}
