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
    public final class LutApplier {
        /// Core Image's largest cube dimension.
        public static let maxCube = 64
        let context: CIContext
        let sRGB: CGColorSpace
        var kernels: [Int: CIColorKernel] = [:]

        public init() {
            context = CIContext(options: [
                .workingFormat: NSNumber(value: CIFormat.RGBAf.rawValue), .cacheIntermediates: false,
            ])
            sRGB = CGColorSpace(name: CGColorSpace.sRGB)!
        }

        /// The weighted-sum kernel for `count` frames (Core Image Kernel Language).
        static func kernelSource(count: Int) -> String {
            let samples = (0..<count).map { "__sample f\($0)" }.joined(separator: ", ")
            let weights = (0..<count).map { "float w\($0)" }.joined(separator: ", ")
            let sum = (0..<count).map { "linear_to_srgb(f\($0).rgb) * w\($0)" }.joined(separator: " + ")
            return """
                kernel vec4 edgemefFuse\(count)(\(samples), \(weights)) {
                    vec3 fused = clamp(\(sum), 0.0, 1.0);
                    return vec4(srgb_to_linear(fused), 1.0);
                }
                """
        }

        func kernel(count: Int) throws -> CIColorKernel {
            if let kernel = kernels[count] {
                return kernel
            }
            guard let kernel = CIColorKernel(source: LutApplier.kernelSource(count: count)) else {
                throw FrameError("Core Image could not compile the fusion kernel for \(count) frames")
            }
            kernels[count] = kernel
            return kernel
        }

        /// The fused picture, 8-bit sRGB; frames darkest first, one weight each, the LUT in the canonical order.
        public func apply(_ frames: [CGImage], weights: [Float], lut: [Float], size: Int) throws -> CGImage {
            guard frames.count >= 2, weights.count == frames.count else {
                throw FrameError("one weight per frame, at least 2 frames")
            }
            guard size <= LutApplier.maxCube else {
                throw ContractError("Core Image takes cubes up to \(LutApplier.maxCube); this LUT has side \(size)")
            }
            let images = frames.map { CIImage(cgImage: $0) }
            let extent = images[0].extent
            var arguments: [Any] = images
            arguments.append(contentsOf: weights.map { NSNumber(value: $0) as Any })
            guard let fused = try kernel(count: frames.count).apply(extent: extent, arguments: arguments) else {
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
