package org.edgemef.demo;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

/** Small file helpers: read a text file or an asset, write a file atomically (temporary + rename). */
public final class Text {
    private Text() {
    }

    public static String read(File file) throws IOException {
        return read(new FileInputStream(file));
    }

    /** Read a stream to its end as UTF-8 and close it. */
    public static String read(InputStream in) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        copy(in, out);
        return out.toString("UTF-8");
    }

    /** Copy a stream to its end into {@code out}, then close both. */
    public static void copy(InputStream in, OutputStream out) throws IOException {
        try {
            byte[] buffer = new byte[1 << 16];
            int n;
            while ((n = in.read(buffer)) > 0) {
                out.write(buffer, 0, n);
            }
        } finally {
            in.close();
            out.close();
        }
    }

    /** Write {@code data} to {@code file} so that a reader sees the old file or the whole new one. */
    public static void writeAtomically(File file, byte[] data) throws IOException {
        File partial = new File(file.getParentFile(), "." + file.getName() + ".partial");
        OutputStream out = new FileOutputStream(partial);
        try {
            out.write(data);
        } finally {
            out.close();
        }
        if (!partial.renameTo(file)) {
            partial.delete();
            throw new IOException("could not write " + file);
        }
    }
}
