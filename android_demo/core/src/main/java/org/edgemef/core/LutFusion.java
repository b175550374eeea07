package org.edgemef.core;

/**
 * The CPU reference of the fusion and the LUT lookup (edgemef.lut.fuse_and_apply_reference): per pixel and
 * channel, fused = clamp(sum_k w_k I_k / 255, 0, 1), then the trilinear lookup in the canonical LUT
 * lut[b][g][r][(R, G, B)] (flat, red fastest; grid coordinate v * (S - 1), clamp-to-edge), clamped to
 * [0, 1] and quantised as floor(x * 255 + 0.5).
 */
public final class LutFusion {
    private LutFusion() {
    }

    /** The fused image, width x height x 3 bytes; frames darkest first, one weight each. */
    public static byte[] fuse(Frame[] frames, float[] weights, float[] lut, int size) {
        if (weights.length != frames.length || lut.length != size * size * size * 3) {
            throw new IllegalArgumentException("one weight per frame and an S x S x S x 3 LUT");
        }
        int width = frames[0].width;
        int height = frames[0].height;
        byte[] out = new byte[width * height * 3];
        double[] fused = new double[3];
        for (int p = 0; p < width * height; p++) {
            for (int c = 0; c < 3; c++) {
                double v = 0;
                for (int k = 0; k < frames.length; k++) {
                    v += weights[k] * ((frames[k].rgb[3 * p + c] & 0xFF) / 255.0);
                }
                fused[c] = v;
            }
            double[] value = trilinear(lut, size, fused[0], fused[1], fused[2]);
            for (int c = 0; c < 3; c++) {
                double x = Math.max(0.0, Math.min(1.0, value[c]));
                out[3 * p + c] = (byte) (int) Math.floor(x * 255.0 + 0.5);
            }
        }
        return out;
    }

    /** The LUT at (r, g, b), each clamped to [0, 1]: the 8-corner weighted sum. */
    public static double[] trilinear(float[] lut, int size, double r, double g, double b) {
        double[] coord = {clamp(r) * (size - 1), clamp(g) * (size - 1), clamp(b) * (size - 1)};
        int[] lower = new int[3];
        double[] frac = new double[3];
        for (int a = 0; a < 3; a++) {
            lower[a] = Math.min((int) Math.floor(coord[a]), size - 2);
            frac[a] = coord[a] - lower[a];
        }
        double[] result = new double[3];
        for (int db = 0; db < 2; db++) {
            double wb = db == 1 ? frac[2] : 1.0 - frac[2];
            for (int dg = 0; dg < 2; dg++) {
                double wg = dg == 1 ? frac[1] : 1.0 - frac[1];
                for (int dr = 0; dr < 2; dr++) {
                    double wr = dr == 1 ? frac[0] : 1.0 - frac[0];
                    int at = (((lower[2] + db) * size + lower[1] + dg) * size + lower[0] + dr) * 3;
                    for (int c = 0; c < 3; c++) {
                        result[c] += wb * wg * wr * lut[at + c];
                    }
                }
            }
        }
        return result;
    }

    private static double clamp(double v) {
        return Math.max(0.0, Math.min(1.0, v));
    }
}
