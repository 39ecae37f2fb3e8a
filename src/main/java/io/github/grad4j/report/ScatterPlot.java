package io.github.grad4j.report;

/**
 * Scatter plot of named point series, each with its own colour and marker shape; points can carry
 * text labels via {@link #pointLabels(String, String...)}. Example:
 *
 * <pre>{@code
 * new ScatterPlot().xLabel("bits").yLabel("accuracy")
 *     .series("QAT", bits, acc).pointLabels("QAT", "2b", "4b", "8b")
 *     .writePng(Path.of("out/scatter.png"));
 * }</pre>
 */
public final class ScatterPlot extends XYPlot<ScatterPlot> {

    /** A scatter plot: markers only. */
    public ScatterPlot() {
        super(false, true);
    }

    /** Also connects consecutive points of each series with a line. */
    public ScatterPlot connect(boolean enabled) {
        setLines(enabled);
        return this;
    }
}
