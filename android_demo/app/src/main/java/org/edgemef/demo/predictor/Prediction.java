package org.edgemef.demo.predictor;

/**
 * What the network predicts for a bracket: the fusion weights (one per exposure, a 1 x 1 map, or the adaptive
 * model's weight map per exposure) and the canonical LUT.
 */
public final class Prediction {
    /** N x mapHeight x mapWidth weights, darkest exposure first, column fastest. */
    public final float[] weights;
    public final int mapHeight;
    public final int mapWidth;
    /** S x S x S x 3 floats, lut[b][g][r][c] flattened (red fastest), as the contract's lut_layout. */
    public final float[] lut;
    public final int grid;

    public Prediction(float[] weights, int mapHeight, int mapWidth, float[] lut, int grid) {
        if (lut.length != grid * grid * grid * 3) {
            throw new IllegalArgumentException("a LUT of side " + grid + " has " + grid * grid * grid * 3
                + " values, got " + lut.length);
        }
        if (mapHeight < 1 || mapWidth < 1 || weights.length % (mapHeight * mapWidth) != 0) {
            throw new IllegalArgumentException(weights.length + " weights are no whole number of "
                + mapHeight + " x " + mapWidth + " maps");
        }
        this.weights = weights;
        this.mapHeight = mapHeight;
        this.mapWidth = mapWidth;
        this.lut = lut;
        this.grid = grid;
    }

    /** Whether the weights are maps of more than one cell (the adaptive model). */
    public boolean hasMaps() {
        return mapHeight * mapWidth > 1;
    }
}
