#if canImport(CoreImage)
    import CoreImage
    import CoreImage.CIFilterBuiltins
    import EdgeMEFCore
    import Foundation

    /// The full-resolution half of LUT-distill on the GPU with Core Image: the weighted average of the frames
    /// (a colour kernel) and the LUT lookup (`CIColorCubeWithColorSpace`), as the contract's postprocessing says:
    /// fused = clamp(sum_k w_k I_k, 0, 1) on the sRGB-encoded values, then trilinear(lut, fused).
    ///
    /// Core Image works in linear light, so the kernel encodes each frame to sRGB before the weighted sum and
    /// decodes the result; the cube filter with colorSpace sRGB does the same around its lookup. Working format
    /// RGBAf (float32), so the conversions cost no precision an 8-bit result would see.
    ///
    /// The adaptive model's weight maps (N x Gh x Gw) become an RGBAf image without a colour space (exposure k
    /// in channel k, first row at the top like the frames), clamped to its edge, scaled to the frame size and
    /// sampled linearly: texel centres land at (i + 0.5) * W / Gw, the contract's half-pixel, clamp-to-edge rule.
    public final class LutApplier {
        /// Core Image's largest cube dimension.
        public static let maxCube = 64
        let context: CIContext
        let sRGB: CGColorSpace
        var kernels: [String: CIColorKernel] = [:]

        public init() {
            context = CIContext(options: [
                .workingFormat: NSNumber(value: CIFormat.RGBAf.rawValue), .cacheIntermediates: false,
            ])
            sRGB = CGColorSpace(name: CGColorSpace.sRGB)!
        }

        /// The weighted-sum kernel for `count` frames (Core Image Kernel Language): one float weight per frame,
        /// or (`maps`) the weights of every pixel from a sampled weight-map image, frame k in channel k.
        static func kernelSource(count: Int, maps: Bool) -> String {
            let samples = (0..<count).map { "__sample f\($0)" }.joined(separator: ", ")
            let channels = ["r", "g", "b", "a"]
            let weights = maps ? "__sample w" : (0..<count).map { "float w\($0)" }.joined(separator: ", ")
            let weight = { (k: Int) in maps ? "w.\(channels[k])" : "w\(k)" }
            let sum = (0..<count).map { "linear_to_srgb(f\($0).rgb) * \(weight($0))" }.joined(separator: " + ")
            return """
                kernel vec4 edgemefFuse\(maps ? "Maps" : "")\(count)(\(samples), \(weights)) {
                    vec3 fused = clamp(\(sum), 0.0, 1.0);
                    return vec4(srgb_to_linear(fused), 1.0);
                }
                """
        }

        func kernel(count: Int, maps: Bool) throws -> CIColorKernel {
            let key = "\(count)\(maps)"
            if let kernel = kernels[key] {
                return kernel
            }
            guard let kernel = CIColorKernel(source: LutApplier.kernelSource(count: count, maps: maps)) else {
                throw FrameError("Core Image could not compile the fusion kernel for \(count) frames")
            }
            kernels[key] = kernel
            return kernel
        }

        /// The weight maps (N x rows x columns, column fastest) as an image of the frames' extent.
        func weightImage(_ weights: [Float], rows: Int, columns: Int, extent: CGRect) -> CIImage {
            let n = weights.count / (rows * columns)
            var rgba = [Float](repeating: 0, count: 4 * rows * columns)
            for k in 0..<n {
                for cell in 0..<(rows * columns) {
                    rgba[4 * cell + k] = weights[k * rows * columns + cell]
                }
            }
            let data = rgba.withUnsafeBufferPointer { Data(buffer: $0) }
            let cells = CIImage(
                bitmapData: data, bytesPerRow: 16 * columns, size: CGSize(width: columns, height: rows),
                format: .RGBAf, colorSpace: nil)
            let scale = CGAffineTransform(
                scaleX: extent.width / CGFloat(columns), y: extent.height / CGFloat(rows))
            return cells.clampedToExtent().samplingLinear().transformed(by: scale).cropped(to: extent)
        }

        /// The fused picture, 8-bit sRGB; frames darkest first, one weight map of `mapSize` cells each (1 x 1:
        /// one weight per frame), the LUT in the canonical order.
        public func apply(
            _ frames: [CGImage], weights: [Float], mapSize: (rows: Int, columns: Int) = (1, 1), lut: [Float],
            size: Int
        ) throws -> CGImage {
            let cells = mapSize.rows * mapSize.columns
            guard frames.count >= 2, frames.count <= 4 || cells == 1, cells >= 1, weights.count == frames.count * cells
            else {
                throw FrameError("one weight map per frame, 2 to 4 frames (any number with one weight each)")
            }
            guard size <= LutApplier.maxCube else {
                throw ContractError("Core Image takes cubes up to \(LutApplier.maxCube); this LUT has side \(size)")
            }
            let images = frames.map { CIImage(cgImage: $0) }
            let extent = images[0].extent
            var arguments: [Any] = images
            if cells == 1 {
                arguments.append(contentsOf: weights.map { NSNumber(value: $0) as Any })
            } else {
                arguments.append(weightImage(weights, rows: mapSize.rows, columns: mapSize.columns, extent: extent))
            }
            let fuse = try kernel(count: frames.count, maps: cells > 1)
            guard let fused = fuse.apply(extent: extent, arguments: arguments) else {
                throw FrameError("Core Image could not fuse the frames")
            }
            let cube = CIFilter.colorCubeWithColorSpace()
            cube.cubeDimension = Float(size)
            cube.cubeData = try ColorCube.data(lut: lut, size: size)
            cube.colorSpace = sRGB
            cube.inputImage = fused
            guard let output = cube.outputImage,
                let image = context.createCGImage(output, from: extent, format: .RGBA8, colorSpace: sRGB)
            else {
                throw FrameError("Core Image could not apply the LUT")
            }
            return image
        }
    }
#endif
