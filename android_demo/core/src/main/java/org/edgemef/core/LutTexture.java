package org.edgemef.core;

/**
 * A canonical LUT as a 3D texture: width = red, height = green, depth = blue, RGB texels, which is the
 * canonical flat order as it is (no reordering). GLES 3.0 takes it as RGB32F or, half the size, RGB16F.
 */
public final class LutTexture {
    private LutTexture() {
    }

    /** The texels as float16 bits (round to nearest even), for an RGB16F texture. */
    public static short[] toHalf(float[] lut) {
        short[] out = new short[lut.length];
        for (int i = 0; i < lut.length; i++) {
            out[i] = halfBits(lut[i]);
        }
        return out;
    }

    /** IEEE 754 binary16 bits of {@code value}, rounded to nearest even; overflow to infinity. */
    public static short halfBits(float value) {
        int bits = Float.floatToIntBits(value);
        int sign = (bits >>> 16) & 0x8000;
        int exponent = ((bits >>> 23) & 0xFF) - 127 + 15;
        int mantissa = bits & 0x7FFFFF;
        if (((bits >>> 23) & 0xFF) == 0xFF) {  // infinity or NaN
            return (short) (sign | 0x7C00 | (mantissa != 0 ? 0x200 : 0));
        }
        if (exponent >= 0x1F) {
            return (short) (sign | 0x7C00);
        }
        if (exponent <= 0) {  // subnormal half (or zero)
            if (exponent < -10) {
                return (short) sign;
            }
            mantissa |= 0x800000;
            int shift = 14 - exponent;
            int half = mantissa >> shift;
            int rest = mantissa & ((1 << shift) - 1);
            int midpoint = 1 << (shift - 1);
            if (rest > midpoint || (rest == midpoint && (half & 1) == 1)) {
                half++;
            }
            return (short) (sign | half);
        }
        int half = (exponent << 10) | (mantissa >> 13);
        int rest = mantissa & 0x1FFF;
        if (rest > 0x1000 || (rest == 0x1000 && (half & 1) == 1)) {
            half++;  // may carry into the exponent: still correct, up to infinity
        }
        return (short) (sign | half);
    }

    /** The float value of float16 {@code bits}. */
    public static float halfToFloat(short bits) {
        int sign = (bits & 0x8000) << 16;
        int exponent = (bits >>> 10) & 0x1F;
        int mantissa = bits & 0x3FF;
        if (exponent == 0) {
            return Float.intBitsToFloat(sign) + (sign != 0 ? -1 : 1) * mantissa * (float) Math.pow(2, -24);
        }
        if (exponent == 0x1F) {
            return Float.intBitsToFloat(sign | 0x7F800000 | (mantissa << 13));
        }
        return Float.intBitsToFloat(sign | ((exponent - 15 + 127) << 23) | (mantissa << 13));
    }
}
