import Foundation

/// The network's thumbnails, as edgemef.runtime.preprocess makes them (the contract's preprocessing.resize):
/// while both sides are at least 4 x size, halve the frame to floor(w/2) x floor(h/2) with an area (box)
/// filter; then area-resize to size x size, ignoring aspect. The area filter is OpenCV's INTER_AREA: each
/// output pixel is the mean of the input pixels its footprint covers, weighted by coverage, rounded to the
/// nearest integer (exact 2x: (a + b + c + d + 2) / 4).
public enum Thumbnails {
    /// One frame's thumbnail, size x size x 3 bytes.
    public static func thumbnail(_ frame: Frame, size: Int) -> [UInt8] {
        var pixels = frame.rgb
        var width = frame.width
        var height = frame.height
        while width >= 4 * size && height >= 4 * size {
            pixels = area(pixels, width, height, width / 2, height / 2)
            width /= 2
            height /= 2
        }
        return area(pixels, width, height, size, size)
    }

    /// The network input: 3N x size x size floats (R, G, B planes of the darkest frame first), value / 255.
    public static func networkInput(_ frames: [Frame], size: Int) -> [Float] {
        let plane = size * size
        var out = [Float](repeating: 0, count: frames.count * 3 * plane)
        for (k, frame) in frames.enumerated() {
            let small = thumbnail(frame, size: size)
            for p in 0..<plane {
                for c in 0..<3 {
                    out[(3 * k + c) * plane + p] = Float(small[3 * p + c]) / 255.0
                }
            }
        }
        return out
    }

    /// INTER_AREA of interleaved RGB from w x h to ow x oh.
    static func area(_ source: [UInt8], _ w: Int, _ h: Int, _ ow: Int, _ oh: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: ow * oh * 3)
        if w == 2 * ow && h == 2 * oh {  // OpenCV's integer fast path
            source.withUnsafeBufferPointer { src in
                out.withUnsafeMutableBufferPointer { dst in
                    for y in 0..<oh {
                        let top = 2 * y * w * 3
                        let bottom = top + w * 3
                        for x in 0..<ow {
                            for c in 0..<3 {
                                let i = 6 * x + c
                                let sum =
                                    Int(src[top + i]) + Int(src[top + i + 3]) + Int(src[bottom + i])
                                    + Int(src[bottom + i + 3])
                                dst[(y * ow + x) * 3 + c] = UInt8((sum + 2) >> 2)
                            }
                        }
                    }
                }
            }
            return out
        }
        let wx = coverage(w, ow)
        let wy = coverage(h, oh)
        var row = [Double](repeating: 0, count: ow * 3)
        source.withUnsafeBufferPointer { src in
            for y in 0..<oh {
                var sum = [Double](repeating: 0, count: ow * 3)
                for (j, weightY) in wy[y].weights.enumerated() {
                    let sy = wy[y].first + j
                    for v in 0..<row.count {
                        row[v] = 0
                    }
                    for x in 0..<ow {
                        for (i, weightX) in wx[x].weights.enumerated() {
                            let at = (sy * w + wx[x].first + i) * 3
                            for c in 0..<3 {
                                row[3 * x + c] += weightX * Double(src[at + c])
                            }
                        }
                    }
                    for v in 0..<row.count {
                        sum[v] += weightY * row[v]
                    }
                }
                for v in 0..<sum.count {
                    out[y * ow * 3 + v] = UInt8(max(0, min(255, sum[v].rounded())))
                }
            }
        }
        return out
    }

    /// For each output index, the first input it covers and the coverage weights (summing to 1) from there.
    static func coverage(_ n: Int, _ on: Int) -> [(first: Int, weights: [Double])] {
        let scale = Double(n) / Double(on)
        return (0..<on).map { o in
            let start = Double(o) * scale
            let end = min(Double(n), start + scale)
            let first = Int(start.rounded(.down))
            let last = Int(end.rounded(.up)) - 1
            let weights = (first...last).map { i in
                (min(end, Double(i + 1)) - max(start, Double(i))) / scale
            }
            return (first, weights)
        }
    }
}
