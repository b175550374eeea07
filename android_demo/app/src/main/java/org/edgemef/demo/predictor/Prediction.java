package org.edgemef.demo.predictor;

/** What the network predicts for a bracket: one fusion weight per exposure and the canonical LUT. */
public final class Prediction {
    /** N weights, darkest exposure first. */
    public final float[] weights;
    /** S x S x S x 3 floats, lut[b][g][r][c] flattened (red fastest), as the contract's lut_layout. */
    public final float[] lut;
    public final int grid;

    public Prediction(float[] weights, float[] lut, int grid) {
        if (lut.length != grid * grid * grid * 3) {
            throw new IllegalArgumentException("a LUT of side " + grid + " has " + grid * grid * grid * 3
                + " values, got " + lut.length);
        }
        this.weights = weights;
        this.lut = lut;
        this.grid = grid;
    }
}
