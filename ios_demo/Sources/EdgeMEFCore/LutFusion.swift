import Foundation

/// The CPU reference of the fusion and the LUT lookup (edgemef.lut.fuse_and_apply_reference): per pixel and
/// channel, fused = clamp(sum_k w_k I_k / 255, 0, 1), then the trilinear lookup in the canonical LUT
/// lut[b][g][r][(R, G, B)] (flat, red fastest; grid coordinate v * (S - 1), clamp-to-edge), clamped to
/// [0, 1] and quantised as floor(x * 255 + 0.5).
public enum LutFusion {
    /// The fused image, width x height x 3 bytes; frames darkest first, one weight each.
    public static func fuse(_ frames: [Frame], weights: [Float], lut: [Float], size: Int) throws -> [UInt8] {
        try Frame.checkBracket(frames)
        guard weights.count == frames.count, size >= 2, lut.count == size * size * size * 3 else {
            throw FrameError("one weight per frame and an S x S x S x 3 LUT")
        }
        let pixels = frames[0].width * frames[0].height
        var out = [UInt8](repeating: 0, count: pixels * 3)
        let w = weights.map(Double.init)
        lut.withUnsafeBufferPointer { table in
            out.withUnsafeMutableBufferPointer { dst in
                for p in 0..<pixels {
                    var fused = (0.0, 0.0, 0.0)
                    for (k, frame) in frames.enumerated() {
                        fused.0 += w[k] * (Double(frame.rgb[3 * p]) / 255.0)
                        fused.1 += w[k] * (Double(frame.rgb[3 * p + 1]) / 255.0)
                        fused.2 += w[k] * (Double(frame.rgb[3 * p + 2]) / 255.0)
                    }
                    let value = trilinear(table, size: size, r: fused.0, g: fused.1, b: fused.2)
                    dst[3 * p] = quantise(value.0)
                    dst[3 * p + 1] = quantise(value.1)
                    dst[3 * p + 2] = quantise(value.2)
                }
            }
        }
        return out
    }

    /// Spatially adaptive fusion: a weight map per frame (`maps`: K x gridHeight x gridWidth, row-major),
    /// sampled bilinearly with half-pixel centres and clamp-to-edge (`sampling`, edgemef.lut.weight_map_sampling:
    /// a texture's linear filter), then the same LUT.
    public static func fuse(
        _ frames: [Frame], maps: [Float], gridHeight: Int, gridWidth: Int, lut: [Float], size: Int
    ) throws -> [UInt8] {
        try Frame.checkBracket(frames)
        guard gridHeight >= 1, gridWidth >= 1, maps.count == frames.count * gridHeight * gridWidth, size >= 2,
            lut.count == size * size * size * 3
        else {
            throw FrameError("one gridHeight x gridWidth weight map per frame and an S x S x S x 3 LUT")
        }
        let width = frames[0].width
        let height = frames[0].height
        let rows = sampling(mapSize: gridHeight, imageSize: height)
        let columns = sampling(mapSize: gridWidth, imageSize: width)
        func cell(_ k: Int, _ y: Int, _ x: Int) -> Double {
            Double(maps[(k * gridHeight + min(y, gridHeight - 1)) * gridWidth + min(x, gridWidth - 1)])
        }
        var out = [UInt8](repeating: 0, count: width * height * 3)
        lut.withUnsafeBufferPointer { table in
            for y in 0..<height {
                let (y0, fy) = rows[y]
                for x in 0..<width {
                    let (x0, fx) = columns[x]
                    let p = y * width + x
                    var fused = (0.0, 0.0, 0.0)
                    for (k, frame) in frames.enumerated() {
                        let top = cell(k, y0, x0) + fx * (cell(k, y0, x0 + 1) - cell(k, y0, x0))
                        let bottom = cell(k, y0 + 1, x0) + fx * (cell(k, y0 + 1, x0 + 1) - cell(k, y0 + 1, x0))
                        let w = top + fy * (bottom - top)
                        fused.0 += w * (Double(frame.rgb[3 * p]) / 255.0)
                        fused.1 += w * (Double(frame.rgb[3 * p + 1]) / 255.0)
                        fused.2 += w * (Double(frame.rgb[3 * p + 2]) / 255.0)
                    }
                    let value = trilinear(table, size: size, r: fused.0, g: fused.1, b: fused.2)
                    out[3 * p] = quantise(value.0)
                    out[3 * p + 1] = quantise(value.1)
                    out[3 * p + 2] = quantise(value.2)
                }
            }
        }
        return out
    }

    /// For each of `imageSize` pixels: the lower map cell and the fraction towards the next one. Pixel i sits
    /// at map coordinate (i + 0.5) * mapSize / imageSize - 0.5, clamped to [0, mapSize - 1].
    public static func sampling(mapSize: Int, imageSize: Int) -> [(Int, Double)] {
        (0..<imageSize).map { i in
            let u = max(0.0, min(Double(mapSize - 1), (Double(i) + 0.5) * Double(mapSize) / Double(imageSize) - 0.5))
            let low = Int(u.rounded(.down))
            return (low, u - Double(low))
        }
    }

    /// The LUT at (r, g, b), each clamped to [0, 1]: the 8-corner weighted sum.
    public static func trilinear(
        _ lut: UnsafeBufferPointer<Float>, size: Int, r: Double, g: Double, b: Double
    ) -> (Double, Double, Double) {
        let coord = [clamp(r) * Double(size - 1), clamp(g) * Double(size - 1), clamp(b) * Double(size - 1)]
        let lower = coord.map { min(Int($0.rounded(.down)), size - 2) }
        let frac = (0..<3).map { coord[$0] - Double(lower[$0]) }
        var result = (0.0, 0.0, 0.0)
        for db in 0..<2 {
            let wb = db == 1 ? frac[2] : 1.0 - frac[2]
            for dg in 0..<2 {
                let wg = dg == 1 ? frac[1] : 1.0 - frac[1]
                for dr in 0..<2 {
                    let weight = wb * wg * (dr == 1 ? frac[0] : 1.0 - frac[0])
                    let at = (((lower[2] + db) * size + lower[1] + dg) * size + lower[0] + dr) * 3
                    result.0 += weight * Double(lut[at])
                    result.1 += weight * Double(lut[at + 1])
                    result.2 += weight * Double(lut[at + 2])
                }
            }
        }
        return result
    }

    static func clamp(_ v: Double) -> Double {
        max(0.0, min(1.0, v))
    }

    static func quantise(_ v: Double) -> UInt8 {
        UInt8((clamp(v) * 255.0 + 0.5).rounded(.down))
    }
}
