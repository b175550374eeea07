package org.edgemef.core;

import java.util.Arrays;
import java.util.Comparator;

/**
 * Darkest to brightest, decided as edgemef.io.order_by_exposure does: by EXIF exposure time x ISO / 100 /
 * f-number^2 (each factor only when every frame has it) when every frame has an exposure time and the
 * values all differ, else by mean Rec.601 luma of every 4th pixel of every 4th row.
 */
public final class BracketOrder {
    private BracketOrder() {
    }

    /** The permutation (indices into {@code frames}), darkest first. */
    public static Integer[] order(Frame[] frames) {
        final double[] key = new double[frames.length];
        boolean exif = frames.length > 0;
        boolean useIso = true;
        boolean useAperture = true;
        for (Frame f : frames) {
            exif &= f.exposureTime != null;
            useIso &= f.iso != null;
            useAperture &= f.fNumber != null;
        }
        if (exif) {
            for (int i = 0; i < frames.length; i++) {
                double value = frames[i].exposureTime;
                if (useIso) {
                    value *= frames[i].iso / 100.0;
                }
                if (useAperture) {
                    value /= frames[i].fNumber * frames[i].fNumber;
                }
                key[i] = value;
            }
            double[] sorted = key.clone();
            Arrays.sort(sorted);
            for (int i = 1; i < sorted.length; i++) {
                exif &= sorted[i] != sorted[i - 1];
            }
        }
        if (!exif) {
            for (int i = 0; i < frames.length; i++) {
                key[i] = meanLuminance(frames[i]);
            }
        }
        Integer[] order = new Integer[frames.length];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        Arrays.sort(order, new Comparator<Integer>() {
            @Override
            public int compare(Integer a, Integer b) {
                return Double.compare(key[a], key[b]);
            }
        });
        return order;
    }

    /** Mean Rec.601 luma (0.299 R + 0.587 G + 0.114 B) of every 4th pixel of every 4th row. */
    public static double meanLuminance(Frame frame) {
        double sum = 0;
        long count = 0;
        for (int y = 0; y < frame.height; y += 4) {
            for (int x = 0; x < frame.width; x += 4) {
                int at = (y * frame.width + x) * 3;
                sum += 0.299 * (frame.rgb[at] & 0xFF) + 0.587 * (frame.rgb[at + 1] & 0xFF)
                    + 0.114 * (frame.rgb[at + 2] & 0xFF);
                count++;
            }
        }
        return sum / count;
    }
}
