package org.edgemef.demo.gl;

/** The GPU path cannot run: no OpenGL ES 3.0, a shader that does not compile, a frame over the texture limit. */
public final class GlException extends RuntimeException {
    public GlException(String message) {
        super(message);
    }
}
