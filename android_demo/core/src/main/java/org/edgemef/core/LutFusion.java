package org.edgemef.core;

/**
 * The CPU reference of the fusion and the LUT lookup (edgemef.lut.fuse_and_apply_reference): per pixel and
 * channel, fused = clamp(sum_k w_k I_k / 255, 0, 1), then the trilinear lookup in the canonical LUT
 * lut[b][g][r][(R, G, B)] (flat, red fastest; grid coordinate v * (S - 1), clamp-to-edge), clamped to
 * [0, 1] and quantised as floor(x * 255 + 0.5).
 *
 * <p>The weights are one per exposure, or (the adaptive model) one map of mapHeight x mapWidth cells per
 * exposure covering the whole frame, sampled bilinearly with half-pixel centres and clamp-to-edge (the
 * contract's postprocessing.weight_maps; edgemef.lut.weight_map_sampling). One weight is a 1 x 1 map.
 */
public final class LutFusion {
    private LutFusion() {
    }

    /** The fused image, width x height x 3 bytes; frames darkest first, one weight each. */
    public static byte[] fuse(Frame[] frames, float[] weights, float[] lut, int size) {
        return fuse(frames, weights, 1, 1, lut, size);
    }

    /**
     * The fused image, width x height x 3 bytes; frames darkest first, weights one mapHeight x mapWidth map
     * per frame (k, row, column flattened, column fastest).
     */
    public static byte[] fuse(Frame[] frames, float[] weights, int mapHeight, int mapWidth, float[] lut, int size) {
        int n = frames.length;
        if (mapHeight < 1 || mapWidth < 1 || weights.length != n * mapHeight * mapWidth
            || lut.length != size * size * size * 3) {
            throw new IllegalArgumentException("one weight map per frame and an S x S x S x 3 LUT");
        }
        int width = frames[0].width;
        int height = frames[0].height;
        int[] y0 = new int[height];
        double[] fy = new double[height];
        sampling(mapHeight, height, y0, fy);
        int[] x0 = new int[width];
        double[] fx = new double[width];
        sampling(mapWidth, width, x0, fx);
        byte[] out = new byte[width * height * 3];
        double[] fused = new double[3];
        double[] pixelWeights = new double[n];
        for (int y = 0; y < height; y++) {
            int y1 = Math.min(y0[y] + 1, mapHeight - 1);
            for (int x = 0; x < width; x++) {
                int x1 = Math.min(x0[x] + 1, mapWidth - 1);
                for (int k = 0; k < n; k++) {
                    int base = k * mapHeight * mapWidth;
                    double top = weights[base + y0[y] * mapWidth + x0[x]] * (1.0 - fx[x])
                        + weights[base + y0[y] * mapWidth + x1] * fx[x];
                    double bottom = weights[base + y1 * mapWidth + x0[x]] * (1.0 - fx[x])
                        + weights[base + y1 * mapWidth + x1] * fx[x];
                    pixelWeights[k] = top * (1.0 - fy[y]) + bottom * fy[y];
                }
                int p = y * width + x;
                for (int c = 0; c < 3; c++) {
                    double v = 0;
                    for (int k = 0; k < n; k++) {
                        v += pixelWeights[k] * ((frames[k].rgb[3 * p + c] & 0xFF) / 255.0);
                    }
                    fused[c] = v;
                }
                double[] value = trilinear(lut, size, fused[0], fused[1], fused[2]);
                for (int c = 0; c < 3; c++) {
                    double v = Math.max(0.0, Math.min(1.0, value[c]));
                    out[3 * p + c] = (byte) (int) Math.floor(v * 255.0 + 0.5);
                }
            }
        }
        return out;
    }

    /**
     * Where pixel i of an axis of imageSize pixels samples a map of mapSize cells: u = (i + 0.5) * mapSize /
     * imageSize - 0.5 clamped to [0, mapSize - 1]; lower cell floor(u) and fraction u - floor(u).
     */
    public static void sampling(int mapSize, int imageSize, int[] lower, double[] fraction) {
        for (int i = 0; i < imageSize; i++) {
            double u = (i + 0.5) * ((double) mapSize / imageSize) - 0.5;
            u = Math.max(0.0, Math.min(mapSize - 1, u));
            lower[i] = (int) Math.floor(u);
            fraction[i] = u - lower[i];
        }
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
