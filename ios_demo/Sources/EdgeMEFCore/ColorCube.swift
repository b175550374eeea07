import Foundation

/// The LUT as Core Image's `CIColorCube` / `CIColorCubeWithColorSpace` data: cubeDimension^3 RGBA texels of
/// float32 (native byte order, little-endian on every iPhone), red fastest, then green, then blue, alpha 1.
/// That is the contract's canonical `lut[b, g, r, (R, G, B)]` order as it is, with an alpha added.
public enum ColorCube {
    /// `lut`: S x S x S x 3 floats in the canonical order; the result is S^3 x 4 x 4 bytes.
    public static func data(lut: [Float], size: Int) throws -> Data {
        guard size >= 2, lut.count == size * size * size * 3 else {
            throw ContractError("a LUT of side \(size) has \(size * size * size * 3) values, got \(lut.count)")
        }
        var texels = [Float](repeating: 1, count: size * size * size * 4)
        for t in 0..<(size * size * size) {
            texels[4 * t] = lut[3 * t]
            texels[4 * t + 1] = lut[3 * t + 1]
            texels[4 * t + 2] = lut[3 * t + 2]
        }
        return texels.withUnsafeBufferPointer { Data(buffer: $0) }
    }
}
