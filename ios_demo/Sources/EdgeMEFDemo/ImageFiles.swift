#if canImport(ImageIO) && canImport(CoreGraphics)
    import CoreGraphics
    import EdgeMEFCore
    import Foundation
    import ImageIO
    import UniformTypeIdentifiers

    /// A decoded photo: upright (EXIF orientation applied) 8-bit sRGB pixels for the CPU core, the same picture
    /// as a CGImage for Core Image, and the exposure its metadata reports.
    public struct DecodedPhoto {
        public let frame: Frame
        public let image: CGImage
        public let name: String
    }

    /// Decoding and encoding with ImageIO; writes are atomic (a temporary file, then a rename).
    public enum ImageFiles {
        public static let extensions: Set<String> = ["jpg", "jpeg", "png", "heic", "heif", "tif", "tiff", "dng"]

        /// The image files directly in `folder`, in natural order (ev2 before ev10), as edgemef's CLI takes them.
        public static func bracket(in folder: URL) throws -> [URL] {
            let files = try FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)
                .filter { extensions.contains($0.pathExtension.lowercased()) }
            return files.sorted {
                $0.lastPathComponent.localizedStandardCompare($1.lastPathComponent) == .orderedAscending
            }
        }

        public static func decode(_ url: URL) throws -> DecodedPhoto {
            guard let source = CGImageSourceCreateWithURL(url as CFURL, nil) else {
                throw FrameError("\(url.lastPathComponent): not an image ImageIO can read")
            }
            return try decode(source, name: url.lastPathComponent)
        }

        public static func decode(_ data: Data, name: String) throws -> DecodedPhoto {
            guard let source = CGImageSourceCreateWithData(data as CFData, nil) else {
                throw FrameError("\(name): not an image ImageIO can read")
            }
            return try decode(source, name: name)
        }

        static func decode(_ source: CGImageSource, name: String) throws -> DecodedPhoto {
            guard CGImageSourceGetCount(source) >= 1,
                let properties = CGImageSourceCopyPropertiesAtIndex(source, 0, nil) as? [CFString: Any],
                let width = properties[kCGImagePropertyPixelWidth] as? Int,
                let height = properties[kCGImagePropertyPixelHeight] as? Int
            else {
                throw FrameError("\(name): corrupt or truncated image")
            }
            // the full-size "thumbnail" with the EXIF orientation applied is the upright picture
            let options: [CFString: Any] = [
                kCGImageSourceCreateThumbnailFromImageAlways: true,
                kCGImageSourceCreateThumbnailWithTransform: true,
                kCGImageSourceThumbnailMaxPixelSize: max(width, height),
                kCGImageSourceShouldCacheImmediately: true,
            ]
            guard let image = CGImageSourceCreateThumbnailAtIndex(source, 0, options as CFDictionary) else {
                throw FrameError("\(name): corrupt or truncated image")
            }
            let frame = try Frame(
                width: image.width, height: image.height, rgb: rgb8(image), exposure: exposure(properties))
            return DecodedPhoto(frame: frame, image: image, name: name)
        }

        /// EXIF exposure time, ISO and f-number, where the file has them.
        public static func exposure(_ properties: [CFString: Any]) -> ExposureInfo {
            let exif = properties[kCGImagePropertyExifDictionary] as? [CFString: Any] ?? [:]
            let iso = (exif[kCGImagePropertyExifISOSpeedRatings] as? [NSNumber])?.first?.doubleValue
            return ExposureInfo(
                exposureTime: (exif[kCGImagePropertyExifExposureTime] as? NSNumber)?.doubleValue,
                iso: iso,
                fNumber: (exif[kCGImagePropertyExifFNumber] as? NSNumber)?.doubleValue)
        }

        /// Interleaved 8-bit sRGB (16-bit and grayscale sources are converted by drawing them).
        public static func rgb8(_ image: CGImage) throws -> [UInt8] {
            let width = image.width
            let height = image.height
            guard let space = CGColorSpace(name: CGColorSpace.sRGB),
                let context = CGContext(
                    data: nil, width: width, height: height, bitsPerComponent: 8, bytesPerRow: width * 4, space: space,
                    bitmapInfo: CGImageAlphaInfo.noneSkipLast.rawValue)
            else {
                throw FrameError("cannot make an 8-bit RGB buffer of \(width) x \(height)")
            }
            context.draw(image, in: CGRect(x: 0, y: 0, width: width, height: height))
            guard let data = context.data else {
                throw FrameError("cannot read the 8-bit RGB buffer")
            }
            let rgbx = data.bindMemory(to: UInt8.self, capacity: width * height * 4)
            var rgb = [UInt8](repeating: 0, count: width * height * 3)
            for p in 0..<(width * height) {
                rgb[3 * p] = rgbx[4 * p]
                rgb[3 * p + 1] = rgbx[4 * p + 1]
                rgb[3 * p + 2] = rgbx[4 * p + 2]
            }
            return rgb
        }

        /// A CGImage of interleaved 8-bit RGB.
        public static func image(rgb: [UInt8], width: Int, height: Int) throws -> CGImage {
            guard let provider = CGDataProvider(data: Data(rgb) as CFData),
                let space = CGColorSpace(name: CGColorSpace.sRGB),
                let image = CGImage(
                    width: width, height: height, bitsPerComponent: 8, bitsPerPixel: 24, bytesPerRow: width * 3,
                    space: space, bitmapInfo: CGBitmapInfo(rawValue: CGImageAlphaInfo.none.rawValue),
                    provider: provider,
                    decode: nil, shouldInterpolate: false, intent: .defaultIntent)
            else {
                throw FrameError("cannot make an image of \(width) x \(height)")
            }
            return image
        }

        /// JPEG bytes of `image` (quality 0.95).
        public static func jpeg(_ image: CGImage) throws -> Data {
            let data = NSMutableData()
            guard
                let destination = CGImageDestinationCreateWithData(
                    data as CFMutableData, UTType.jpeg.identifier as CFString, 1, nil)
            else {
                throw FrameError("cannot encode JPEG")
            }
            CGImageDestinationAddImage(
                destination, image, [kCGImageDestinationLossyCompressionQuality: 0.95] as CFDictionary)
            guard CGImageDestinationFinalize(destination) else {
                throw FrameError("cannot encode JPEG")
            }
            return data as Data
        }

        /// Writes `data` to `url` atomically: a reader never sees half a file, a failure leaves nothing.
        public static func writeAtomically(_ data: Data, to url: URL) throws {
            try data.write(to: url, options: .atomic)
        }
    }
#endif
