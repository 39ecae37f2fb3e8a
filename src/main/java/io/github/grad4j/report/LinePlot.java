package io.github.grad4j.report;

/**
 * Line chart of named series, e.g. loss curves over steps. Example:
 *
 * <pre>{@code
 * new LinePlot().title("Training loss").xLabel("step").yLabel("loss").logY(true)
 *     .series("adam", steps, adamLoss).band("adam", adamMin, adamMax)
 *     .series("sgd", steps, sgdLoss)
 *     .writePng(Path.of("out/loss.png"));
 * }</pre>
 *
 * See {@link XYPlot} for log axes, NaN handling and bands.
 */
public final class LinePlot extends XYPlot<LinePlot> {

    /** A line plot without markers. */
    public LinePlot() {
        super(true, false);
    }

    /** Draws a marker at every finite point (useful for sparse series such as per-epoch evaluations). */
    public LinePlot markers(boolean enabled) {
        setMarkers(enabled);
        return this;
    }
}
