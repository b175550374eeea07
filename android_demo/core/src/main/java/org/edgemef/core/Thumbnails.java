package org.edgemef.core;

/**
 * The network's thumbnails, as edgemef.runtime.preprocess makes them (the contract's preprocessing.resize):
 * while both sides are at least 4 x size, halve the frame to floor(w/2) x floor(h/2) with an area (box)
 * filter; then area-resize to size x size, ignoring aspect. The area filter is OpenCV's INTER_AREA: each
 * output pixel is the mean of the input pixels its footprint covers, weighted by coverage, rounded to the
 * nearest integer (exact 2x: (a + b + c + d + 2) / 4).
 */
public final class Thumbnails {
    private Thumbnails() {
    }

    /** One frame's thumbnail, size x size x 3 bytes. */
    public static byte[] thumbnail(Frame frame, int size) {
        byte[] pixels = frame.rgb;
        int width = frame.width;
        int height = frame.height;
        while (width >= 4 * size && height >= 4 * size) {
            pixels = area(pixels, width, height, width / 2, height / 2);
            width /= 2;
            height /= 2;
        }
        return area(pixels, width, height, size, size);
    }

    /** The network input: 3N x size x size floats (R, G, B planes of the darkest frame first), value / 255. */
    public static float[] networkInput(Frame[] frames, int size) {
        float[] out = new float[frames.length * 3 * size * size];
        int plane = size * size;
        for (int k = 0; k < frames.length; k++) {
            byte[] small = thumbnail(frames[k], size);
            for (int p = 0; p < plane; p++) {
                for (int c = 0; c < 3; c++) {
                    out[(3 * k + c) * plane + p] = (small[3 * p + c] & 0xFF) / 255.0f;
                }
            }
        }
        return out;
    }

    /** INTER_AREA of interleaved RGB from w x h to ow x oh. */
    static byte[] area(byte[] src, int w, int h, int ow, int oh) {
        byte[] out = new byte[ow * oh * 3];
        if (w == 2 * ow && h == 2 * oh) {  // OpenCV's integer fast path
            for (int y = 0; y < oh; y++) {
                for (int x = 0; x < ow; x++) {
                    for (int c = 0; c < 3; c++) {
                        int a = src[((2 * y) * w + 2 * x) * 3 + c] & 0xFF;
                        int b = src[((2 * y) * w + 2 * x + 1) * 3 + c] & 0xFF;
                        int d = src[((2 * y + 1) * w + 2 * x) * 3 + c] & 0xFF;
                        int e = src[((2 * y + 1) * w + 2 * x + 1) * 3 + c] & 0xFF;
                        out[(y * ow + x) * 3 + c] = (byte) ((a + b + d + e + 2) >> 2);
                    }
                }
            }
            return out;
        }
        double[][] wx = coverage(w, ow);
        double[][] wy = coverage(h, oh);
        int[] x0 = firstIndex(w, ow);
        int[] y0 = firstIndex(h, oh);
        double[] row = new double[ow * 3];
        for (int y = 0; y < oh; y++) {
            double[] sum = new double[ow * 3];
            for (int j = 0; j < wy[y].length; j++) {
                int sy = y0[y] + j;
                java.util.Arrays.fill(row, 0);
                for (int x = 0; x < ow; x++) {
                    for (int i = 0; i < wx[x].length; i++) {
                        int at = (sy * w + x0[x] + i) * 3;
                        for (int c = 0; c < 3; c++) {
                            row[3 * x + c] += wx[x][i] * (src[at + c] & 0xFF);
                        }
                    }
                }
                for (int v = 0; v < row.length; v++) {
                    sum[v] += wy[y][j] * row[v];
                }
            }
            for (int v = 0; v < sum.length; v++) {
                long r = Math.round(sum[v]);
                out[y * ow * 3 + v] = (byte) Math.max(0, Math.min(255, r));
            }
        }
        return out;
    }

    /** For each output index, the coverage weights (summing to 1) of the inputs from firstIndex on. */
    private static double[][] coverage(int n, int on) {
        double scale = (double) n / on;
        double[][] weights = new double[on][];
        for (int o = 0; o < on; o++) {
            double start = o * scale;
            double end = Math.min(n, start + scale);
            int first = (int) Math.floor(start);
            int last = (int) Math.ceil(end) - 1;
            weights[o] = new double[last - first + 1];
            for (int i = first; i <= last; i++) {
                double cover = Math.min(end, i + 1) - Math.max(start, i);
                weights[o][i - first] = cover / scale;
            }
        }
        return weights;
    }

    private static int[] firstIndex(int n, int on) {
        double scale = (double) n / on;
        int[] first = new int[on];
        for (int o = 0; o < on; o++) {
            first[o] = (int) Math.floor(o * scale);
        }
        return first;
    }
}
