package org.edgemef.core;

/** One exposure: 8-bit RGB pixels, interleaved R, G, B, row by row, and its EXIF exposure (or null). */
public final class Frame {
    public final int width;
    public final int height;
    public final byte[] rgb;
    /** Exposure time in seconds, ISO and f-number from EXIF; null where the file does not say. */
    public final Double exposureTime;
    public final Double iso;
    public final Double fNumber;

    public Frame(int width, int height, byte[] rgb, Double exposureTime, Double iso, Double fNumber) {
        if (width < 1 || height < 1 || rgb.length != width * height * 3) {
            throw new IllegalArgumentException("a frame is width x height x 3 bytes");
        }
        this.width = width;
        this.height = height;
        this.rgb = rgb;
        this.exposureTime = exposureTime;
        this.iso = iso;
        this.fNumber = fNumber;
    }

    public Frame(int width, int height, byte[] rgb) {
        this(width, height, rgb, null, null, null);
    }
}
