package org.edgemef.demo.gl;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.ShortBuffer;

import android.opengl.EGL14;
import android.opengl.EGLConfig;
import android.opengl.EGLContext;
import android.opengl.EGLDisplay;
import android.opengl.EGLSurface;
import android.opengl.GLES30;

import org.edgemef.core.Frame;
import org.edgemef.core.LutTexture;

/**
 * The full-resolution stage on the GPU: fuse the bracket with the predicted weights and look the result up in
 * the LUT, in one pass of the fragment shader assets/fuse_lut.frag (the file the desktop tests render), into
 * an RGBA8 framebuffer that is read back.
 *
 * Offscreen (an EGL pbuffer context of its own, OpenGL ES 3.0), so the benchmark needs no window. Frames are
 * RGB8 textures sampled at texel centres (nearest); the LUT is an RGB16F 3D texture (width red, height green,
 * depth blue, linear filtering, clamp-to-edge); the weights are an RGBA16F 2D texture, exposure k in channel
 * k, one texel per weight-map cell (1 x 1 for one weight per exposure), linear filtering and clamp-to-edge:
 * the contract's weight-map sampling. Every call must come from the thread that made the renderer.
 */
public final class GlLutRenderer {
    private static final int EGL_OPENGL_ES3_BIT = 0x40;
    private static final int MAX_FRAMES = 4;

    private final EGLDisplay display;
    private final EGLContext context;
    private final EGLSurface surface;
    private final int program;
    private final int[] frameTextures = new int[MAX_FRAMES];
    private final int[] lutTexture = new int[1];
    private final int[] weightTexture = new int[1];
    private final int[] framebuffer = new int[1];
    private final int[] target = new int[1];
    private final int[] vertexArray = new int[1];
    private final int maxTextureSize;
    private int targetWidth = -1;
    private int targetHeight = -1;

    /** Make the context and compile the shaders (their sources from the app's assets). */
    public GlLutRenderer(String vertexSource, String fragmentSource) {
        display = EGL14.eglGetDisplay(EGL14.EGL_DEFAULT_DISPLAY);
        int[] version = new int[2];
        if (!EGL14.eglInitialize(display, version, 0, version, 1)) {
            throw new GlException("eglInitialize failed: 0x" + Integer.toHexString(EGL14.eglGetError()));
        }
        int[] attributes = {
            EGL14.EGL_RENDERABLE_TYPE, EGL_OPENGL_ES3_BIT, EGL14.EGL_SURFACE_TYPE, EGL14.EGL_PBUFFER_BIT,
            EGL14.EGL_RED_SIZE, 8, EGL14.EGL_GREEN_SIZE, 8, EGL14.EGL_BLUE_SIZE, 8, EGL14.EGL_ALPHA_SIZE, 8,
            EGL14.EGL_NONE,
        };
        EGLConfig[] configs = new EGLConfig[1];
        int[] found = new int[1];
        if (!EGL14.eglChooseConfig(display, attributes, 0, configs, 0, 1, found, 0) || found[0] == 0) {
            throw new GlException("this device has no OpenGL ES 3.0 pbuffer configuration");
        }
        context = EGL14.eglCreateContext(display, configs[0], EGL14.EGL_NO_CONTEXT,
            new int[] {EGL14.EGL_CONTEXT_CLIENT_VERSION, 3, EGL14.EGL_NONE}, 0);
        if (context == null || context == EGL14.EGL_NO_CONTEXT) {
            throw new GlException("eglCreateContext (OpenGL ES 3.0) failed");
        }
        surface = EGL14.eglCreatePbufferSurface(display, configs[0],
            new int[] {EGL14.EGL_WIDTH, 1, EGL14.EGL_HEIGHT, 1, EGL14.EGL_NONE}, 0);
        if (!EGL14.eglMakeCurrent(display, surface, surface, context)) {
            throw new GlException("eglMakeCurrent failed");
        }
        program = link(compile(GLES30.GL_VERTEX_SHADER, vertexSource),
            compile(GLES30.GL_FRAGMENT_SHADER, fragmentSource));
        int[] size = new int[1];
        GLES30.glGetIntegerv(GLES30.GL_MAX_TEXTURE_SIZE, size, 0);
        maxTextureSize = size[0];
        GLES30.glGenTextures(MAX_FRAMES, frameTextures, 0);
        GLES30.glGenTextures(1, lutTexture, 0);
        GLES30.glGenTextures(1, weightTexture, 0);
        GLES30.glGenFramebuffers(1, framebuffer, 0);
        GLES30.glGenTextures(1, target, 0);
        GLES30.glGenVertexArrays(1, vertexArray, 0);
    }

    private static int compile(int type, String source) {
        int shader = GLES30.glCreateShader(type);
        GLES30.glShaderSource(shader, source);
        GLES30.glCompileShader(shader);
        int[] ok = new int[1];
        GLES30.glGetShaderiv(shader, GLES30.GL_COMPILE_STATUS, ok, 0);
        if (ok[0] == 0) {
            String log = GLES30.glGetShaderInfoLog(shader);
            GLES30.glDeleteShader(shader);
            throw new GlException("shader compile failed: " + log);
        }
        return shader;
    }

    private static int link(int vertex, int fragment) {
        int program = GLES30.glCreateProgram();
        GLES30.glAttachShader(program, vertex);
        GLES30.glAttachShader(program, fragment);
        GLES30.glLinkProgram(program);
        int[] ok = new int[1];
        GLES30.glGetProgramiv(program, GLES30.GL_LINK_STATUS, ok, 0);
        if (ok[0] == 0) {
            throw new GlException("program link failed: " + GLES30.glGetProgramInfoLog(program));
        }
        return program;
    }

    /** The renderer's GL_RENDERER string (the GPU, in the driver's words). */
    public String gpu() {
        return GLES30.glGetString(GLES30.GL_RENDERER);
    }

    /**
     * Fuse {@code frames} (darkest first, all the same size) and apply the LUT; RGB bytes, row by row, the
     * frames' first row first. {@code weights}: one mapHeight x mapWidth weight map per frame (k, row, column,
     * column fastest; 1 x 1 for one weight per frame).
     */
    public byte[] render(Frame[] frames, float[] weights, int mapHeight, int mapWidth, float[] lut, int grid) {
        if (frames.length < 2 || frames.length > MAX_FRAMES || mapHeight < 1 || mapWidth < 1
            || weights.length != frames.length * mapHeight * mapWidth) {
            throw new IllegalArgumentException("2 to " + MAX_FRAMES + " frames, one weight map each");
        }
        int width = frames[0].width;
        int height = frames[0].height;
        if (width > maxTextureSize || height > maxTextureSize) {
            throw new GlException(width + "x" + height + " is over this GPU's texture limit of " + maxTextureSize);
        }
        GLES30.glUseProgram(program);
        GLES30.glPixelStorei(GLES30.GL_UNPACK_ALIGNMENT, 1);
        for (int k = 0; k < frames.length; k++) {
            if (frames[k].width != width || frames[k].height != height) {
                throw new IllegalArgumentException("the frames of a bracket have one size");
            }
            GLES30.glActiveTexture(GLES30.GL_TEXTURE0 + k);
            GLES30.glBindTexture(GLES30.GL_TEXTURE_2D, frameTextures[k]);
            parameters(GLES30.GL_TEXTURE_2D, GLES30.GL_NEAREST);
            GLES30.glTexImage2D(GLES30.GL_TEXTURE_2D, 0, GLES30.GL_RGB8, width, height, 0, GLES30.GL_RGB,
                GLES30.GL_UNSIGNED_BYTE, ByteBuffer.wrap(frames[k].rgb));
            GLES30.glUniform1i(GLES30.glGetUniformLocation(program, "u_frame" + k), k);
        }
        for (int k = frames.length; k < MAX_FRAMES; k++) { // unused samplers still name a unit of their own
            GLES30.glUniform1i(GLES30.glGetUniformLocation(program, "u_frame" + k), k);
        }
        short[] half = LutTexture.toHalf(lut);
        ShortBuffer lutData = ByteBuffer.allocateDirect(2 * half.length).order(ByteOrder.nativeOrder())
            .asShortBuffer();
        lutData.put(half).rewind();
        GLES30.glActiveTexture(GLES30.GL_TEXTURE0 + MAX_FRAMES);
        GLES30.glBindTexture(GLES30.GL_TEXTURE_3D, lutTexture[0]);
        parameters(GLES30.GL_TEXTURE_3D, GLES30.GL_LINEAR);
        GLES30.glTexParameteri(GLES30.GL_TEXTURE_3D, GLES30.GL_TEXTURE_WRAP_R, GLES30.GL_CLAMP_TO_EDGE);
        GLES30.glTexImage3D(GLES30.GL_TEXTURE_3D, 0, GLES30.GL_RGB16F, grid, grid, grid, 0, GLES30.GL_RGB,
            GLES30.GL_HALF_FLOAT, lutData);
        GLES30.glUniform1i(GLES30.glGetUniformLocation(program, "u_lut"), MAX_FRAMES);
        GLES30.glUniform1i(GLES30.glGetUniformLocation(program, "u_count"), frames.length);
        uploadWeights(weights, frames.length, mapHeight, mapWidth);
        GLES30.glUniform1i(GLES30.glGetUniformLocation(program, "u_weight_maps"), MAX_FRAMES + 2);
        GLES30.glUniform1f(GLES30.glGetUniformLocation(program, "u_size"), grid);
        bindTarget(width, height);
        GLES30.glViewport(0, 0, width, height);
        GLES30.glBindVertexArray(vertexArray[0]);
        GLES30.glDrawArrays(GLES30.GL_TRIANGLES, 0, 3);
        ByteBuffer rgba = ByteBuffer.allocateDirect(4 * width * height);
        GLES30.glReadPixels(0, 0, width, height, GLES30.GL_RGBA, GLES30.GL_UNSIGNED_BYTE, rgba);
        int error = GLES30.glGetError();
        if (error != GLES30.GL_NO_ERROR) {
            throw new GlException("OpenGL error 0x" + Integer.toHexString(error));
        }
        byte[] rgb = new byte[3 * width * height];
        for (int p = 0, q = 0; p < rgb.length; p += 3, q += 4) {
            rgb[p] = rgba.get(q);
            rgb[p + 1] = rgba.get(q + 1);
            rgb[p + 2] = rgba.get(q + 2);
        }
        return rgb;
    }

    /** The weight maps as an RGBA16F texture: texel (x, y) holds the cell's weights of exposures 0..3. */
    private void uploadWeights(float[] weights, int n, int mapHeight, int mapWidth) {
        int cells = mapHeight * mapWidth;
        float[] rgba = new float[4 * cells];
        for (int k = 0; k < n; k++) {
            for (int c = 0; c < cells; c++) {
                rgba[4 * c + k] = weights[k * cells + c];
            }
        }
        short[] half = LutTexture.toHalf(rgba);
        ShortBuffer data = ByteBuffer.allocateDirect(2 * half.length).order(ByteOrder.nativeOrder()).asShortBuffer();
        data.put(half).rewind();
        GLES30.glActiveTexture(GLES30.GL_TEXTURE0 + MAX_FRAMES + 2);
        GLES30.glBindTexture(GLES30.GL_TEXTURE_2D, weightTexture[0]);
        parameters(GLES30.GL_TEXTURE_2D, GLES30.GL_LINEAR);
        GLES30.glTexImage2D(GLES30.GL_TEXTURE_2D, 0, GLES30.GL_RGBA16F, mapWidth, mapHeight, 0, GLES30.GL_RGBA,
            GLES30.GL_HALF_FLOAT, data);
    }

    private static void parameters(int kind, int filter) {
        GLES30.glTexParameteri(kind, GLES30.GL_TEXTURE_MIN_FILTER, filter);
        GLES30.glTexParameteri(kind, GLES30.GL_TEXTURE_MAG_FILTER, filter);
        GLES30.glTexParameteri(kind, GLES30.GL_TEXTURE_WRAP_S, GLES30.GL_CLAMP_TO_EDGE);
        GLES30.glTexParameteri(kind, GLES30.GL_TEXTURE_WRAP_T, GLES30.GL_CLAMP_TO_EDGE);
    }

    private void bindTarget(int width, int height) {
        GLES30.glBindFramebuffer(GLES30.GL_FRAMEBUFFER, framebuffer[0]);
        if (width == targetWidth && height == targetHeight) {
            return;
        }
        GLES30.glActiveTexture(GLES30.GL_TEXTURE0 + MAX_FRAMES + 1);
        GLES30.glBindTexture(GLES30.GL_TEXTURE_2D, target[0]);
        parameters(GLES30.GL_TEXTURE_2D, GLES30.GL_NEAREST);
        GLES30.glTexImage2D(GLES30.GL_TEXTURE_2D, 0, GLES30.GL_RGBA8, width, height, 0, GLES30.GL_RGBA,
            GLES30.GL_UNSIGNED_BYTE, null);
        GLES30.glFramebufferTexture2D(GLES30.GL_FRAMEBUFFER, GLES30.GL_COLOR_ATTACHMENT0, GLES30.GL_TEXTURE_2D,
            target[0], 0);
        int status = GLES30.glCheckFramebufferStatus(GLES30.GL_FRAMEBUFFER);
        if (status != GLES30.GL_FRAMEBUFFER_COMPLETE) {
            throw new GlException("framebuffer incomplete: 0x" + Integer.toHexString(status));
        }
        targetWidth = width;
        targetHeight = height;
    }

    /** Free the GL objects and the context. */
    public void release() {
        EGL14.eglMakeCurrent(display, surface, surface, context);
        GLES30.glDeleteTextures(MAX_FRAMES, frameTextures, 0);
        GLES30.glDeleteTextures(1, lutTexture, 0);
        GLES30.glDeleteTextures(1, weightTexture, 0);
        GLES30.glDeleteTextures(1, target, 0);
        GLES30.glDeleteFramebuffers(1, framebuffer, 0);
        GLES30.glDeleteVertexArrays(1, vertexArray, 0);
        GLES30.glDeleteProgram(program);
        EGL14.eglMakeCurrent(display, EGL14.EGL_NO_SURFACE, EGL14.EGL_NO_SURFACE, EGL14.EGL_NO_CONTEXT);
        EGL14.eglDestroySurface(display, surface);
        EGL14.eglDestroyContext(display, context);
        EGL14.eglTerminate(display);
    }
}
