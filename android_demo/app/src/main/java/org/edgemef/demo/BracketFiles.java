package org.edgemef.demo;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import android.content.ContentResolver;
import android.graphics.Bitmap;
import android.graphics.BitmapFactory;
import android.graphics.Matrix;
import android.media.ExifInterface;
import android.net.Uri;

import org.edgemef.core.BracketOrder;
import org.edgemef.core.Frame;

/**
 * Brackets in and fused images out: decode JPEG/PNG files or gallery items to core Frames (8-bit RGB, EXIF
 * orientation applied, EXIF exposure kept for ordering), order them darkest first, encode a result.
 */
public final class BracketFiles {
    private BracketFiles() {
    }

    /** The image files of a folder (jpg, jpeg, png), by name. */
    public static File[] list(File folder) throws IOException {
        File[] all = folder.listFiles();
        if (all == null) {
            throw new IOException("cannot read the folder " + folder);
        }
        List<File> images = new ArrayList<File>();
        for (File file : all) {
            String name = file.getName().toLowerCase(java.util.Locale.ROOT);
            if (file.isFile() && (name.endsWith(".jpg") || name.endsWith(".jpeg") || name.endsWith(".png"))) {
                images.add(file);
            }
        }
        File[] sorted = images.toArray(new File[0]);
        Arrays.sort(sorted);
        if (sorted.length < 2) {
            throw new IOException(folder + " holds " + sorted.length + " images; a bracket has 2 or more");
        }
        return sorted;
    }

    public static Frame decode(File file) throws IOException {
        Bitmap bitmap = BitmapFactory.decodeFile(file.getPath(), options());
        if (bitmap == null) {
            throw new IOException(file.getName() + " is not an image this device decodes (corrupt or truncated?)");
        }
        return frame(bitmap, new ExifInterface(file.getPath()));
    }

    /** A gallery item: copied to {@code scratch} first (EXIF is read from a file), then decoded. */
    public static Frame decode(ContentResolver resolver, Uri uri, File scratch) throws IOException {
        InputStream in = resolver.openInputStream(uri);
        if (in == null) {
            throw new IOException("cannot open " + uri);
        }
        try {
            Text.copy(in, new FileOutputStream(scratch));
            return decode(scratch);
        } finally {
            scratch.delete();
        }
    }

    private static BitmapFactory.Options options() {
        BitmapFactory.Options options = new BitmapFactory.Options();
        options.inPreferredConfig = Bitmap.Config.ARGB_8888;
        options.inScaled = false;
        return options;
    }

    private static Frame frame(Bitmap bitmap, ExifInterface exif) {
        int rotation = 0;
        switch (exif.getAttributeInt(ExifInterface.TAG_ORIENTATION, ExifInterface.ORIENTATION_NORMAL)) {
            case ExifInterface.ORIENTATION_ROTATE_90:
                rotation = 90;
                break;
            case ExifInterface.ORIENTATION_ROTATE_180:
                rotation = 180;
                break;
            case ExifInterface.ORIENTATION_ROTATE_270:
                rotation = 270;
                break;
            default:
                break;
        }
        if (rotation != 0) {
            Matrix matrix = new Matrix();
            matrix.postRotate(rotation);
            bitmap = Bitmap.createBitmap(bitmap, 0, 0, bitmap.getWidth(), bitmap.getHeight(), matrix, true);
        }
        // EXIF tag names as strings: the constants for ISO and f-number were renamed after API 23
        return new Frame(bitmap.getWidth(), bitmap.getHeight(), rgb(bitmap), positive(exif, "ExposureTime"),
            positive(exif, "ISOSpeedRatings"), positive(exif, "FNumber"));
    }

    private static Double positive(ExifInterface exif, String tag) {
        double value = exif.getAttributeDouble(tag, -1.0);
        return value > 0 ? Double.valueOf(value) : null;
    }

    /** A bitmap's pixels as RGB bytes, row by row. */
    public static byte[] rgb(Bitmap bitmap) {
        int width = bitmap.getWidth();
        int height = bitmap.getHeight();
        int[] row = new int[width];
        byte[] rgb = new byte[3 * width * height];
        for (int y = 0, p = 0; y < height; y++) {
            bitmap.getPixels(row, 0, width, 0, y, width, 1);
            for (int x = 0; x < width; x++, p += 3) {
                int argb = row[x];
                rgb[p] = (byte) (argb >> 16);
                rgb[p + 1] = (byte) (argb >> 8);
                rgb[p + 2] = (byte) argb;
            }
        }
        return rgb;
    }

    /** RGB bytes as a bitmap. */
    public static Bitmap bitmap(byte[] rgb, int width, int height) {
        int[] argb = new int[width * height];
        for (int i = 0, p = 0; i < argb.length; i++, p += 3) {
            argb[i] = 0xFF000000 | (rgb[p] & 0xFF) << 16 | (rgb[p + 1] & 0xFF) << 8 | (rgb[p + 2] & 0xFF);
        }
        return Bitmap.createBitmap(argb, width, height, Bitmap.Config.ARGB_8888);
    }

    /** The frames darkest first (EXIF exposure, else mean luma), as edgemef.io.order_by_exposure. */
    public static Frame[] ordered(Frame[] frames) {
        Integer[] order = BracketOrder.order(frames);
        Frame[] sorted = new Frame[frames.length];
        for (int i = 0; i < order.length; i++) {
            sorted[i] = frames[order[i]];
        }
        for (Frame frame : sorted) {
            if (frame.width != sorted[0].width || frame.height != sorted[0].height) {
                throw new IllegalArgumentException("the frames of a bracket must have one size: " + sorted[0].width
                    + "x" + sorted[0].height + " and " + frame.width + "x" + frame.height);
            }
        }
        return sorted;
    }

    /** A fused image as JPEG bytes (quality 95). */
    public static byte[] jpeg(byte[] rgb, int width, int height) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        bitmap(rgb, width, height).compress(Bitmap.CompressFormat.JPEG, 95, out);
        return out.toByteArray();
    }
}
