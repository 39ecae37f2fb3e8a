package io.github.grad4j.report;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.Shape;
import java.awt.geom.Line2D;
import java.awt.geom.Rectangle2D;
import java.util.ArrayList;
import java.util.List;

/**
 * Grouped bar chart: one group per category (e.g. dataset), one bar per series (e.g. method), with
 * optional error bars. Long category labels are rotated automatically. Missing values (NaN) leave an
 * empty slot marked {@code "n/a"}. Example:
 *
 * <pre>{@code
 * new BarChart().title("Accuracy").yLabel("accuracy (mean ± 95% CI)")
 *     .categories("omniglot", "mini-imagenet")
 *     .series("MAML", new double[] {0.95, 0.48}, new double[] {0.01, 0.02})
 *     .series("ProtoNet", new double[] {0.97, 0.49}, new double[] {0.01, 0.015})
 *     .writePng(Path.of("out/acc.png"));
 * }</pre>
 */
public final class BarChart extends Figure<BarChart> {

    private static final Color ERROR_BAR = new Color(0x333333);

    private record Series(String name, double[] values, double[] lower, double[] upper) {}

    private List<String> categories = List.of();
    private final List<Series> series = new ArrayList<>();
    private double[] yRange;
    private String missingLabel = "n/a";

    // State of the current rendering pass.
    private Scale yScale;

    /** The category (group) labels along the x axis; set before adding series. */
    public BarChart categories(String... labels) {
        if (!series.isEmpty()) {
            throw new IllegalStateException("set categories before adding series");
        }
        this.categories = List.of(labels);
        return this;
    }

    /** A series of bar heights, one per category, without error bars. */
    public BarChart series(String name, double[] values) {
        return addSeries(name, values, null, null);
    }

    /** A series with symmetric error bars of half-width {@code errors[i]} (e.g. 95% CI half-width). */
    public BarChart series(String name, double[] values, double[] errors) {
        checkLength(name, errors);
        double[] lower = new double[values.length];
        double[] upper = new double[values.length];
        for (int i = 0; i < values.length; i++) {
            lower[i] = values[i] - errors[i];
            upper[i] = values[i] + errors[i];
        }
        return addSeries(name, values, lower, upper);
    }

    /** A series with asymmetric error bars given as absolute bounds {@code lower[i] <= values[i] <= upper[i]}. */
    public BarChart series(String name, double[] values, double[] lower, double[] upper) {
        checkLength(name, lower);
        checkLength(name, upper);
        return addSeries(name, values, lower.clone(), upper.clone());
    }

    /** Fixes the value axis range (e.g. 0..1 for accuracies) instead of fitting the data. */
    public BarChart yRange(double min, double max) {
        if (!(min < max) || !Double.isFinite(min) || !Double.isFinite(max)) {
            throw new IllegalArgumentException("y range must be finite with min < max");
        }
        this.yRange = new double[] {min, max};
        return this;
    }

    /** Text shown in place of a NaN bar (default {@code "n/a"}). */
    public BarChart missingLabel(String label) {
        this.missingLabel = label;
        return this;
    }

    private BarChart addSeries(String name, double[] values, double[] lower, double[] upper) {
        checkLength(name, values);
        series.add(new Series(name, values.clone(), lower, upper));
        return this;
    }

    private void checkLength(String name, double[] array) {
        if (array.length != categories.size()) {
            throw new IllegalArgumentException("series '" + name + "' has " + array.length + " values but there are "
                    + categories.size() + " categories");
        }
    }

    @Override
    protected Axes prepareAxes() {
        if (categories.isEmpty() || series.isEmpty()) {
            throw new IllegalStateException("bar chart needs categories and at least one series");
        }
        if (yRange != null) {
            yScale = Scale.linearExact(yRange[0], yRange[1], Ticks.linear(yRange[0], yRange[1]));
        } else {
            // Bars grow from zero, so zero is always part of the range.
            double low = 0;
            double high = 0;
            for (Series s : series) {
                for (int i = 0; i < s.values().length; i++) {
                    for (double v : new double[] {s.values()[i], s.lower() == null ? 0 : s.lower()[i],
                            s.upper() == null ? 0 : s.upper()[i]}) {
                        if (Double.isFinite(v)) {
                            low = Math.min(low, v);
                            high = Math.max(high, v);
                        }
                    }
                }
            }
            if (low == high) {
                high = 1;
            }
            // End the axis on a nice tick at or beyond the data so the tallest bar has a reference line.
            Ticks.TickSet rough = Ticks.linear(low, high);
            double step = rough.step();
            double niceLow = low < 0 ? Math.floor(low / step) * step : 0;
            double niceHigh = high > 0 ? Math.ceil(high / step) * step : 0;
            Ticks.TickSet ticks = Ticks.withStep(niceLow, niceHigh, rough.mantissa(), rough.exponent());
            yScale = Scale.linearExact(niceLow, niceHigh, ticks);
        }
        return new Axes(AxisModel.categorical(categories, false), yScale.axisModel());
    }

    private Rectangle2D barRect(Rectangle2D plot, int category, int seriesIndex, double value) {
        double slot = plot.getWidth() / categories.size();
        double barWidth = slot * 0.8 / series.size();
        double x = plot.getX() + category * slot + slot * 0.1 + seriesIndex * barWidth;
        // With a fixed range that excludes zero, bars start from the nearest edge of the plot.
        double zero = plot.getMaxY() - Math.max(0, Math.min(1, yScale.unit(0))) * plot.getHeight();
        double top = yPixel(plot, value);
        // A 1px gutter keeps adjacent bars of a group apart.
        double gutter = Math.min(1.5 * scale(), barWidth * 0.15);
        return new Rectangle2D.Double(x + gutter / 2, Math.min(zero, top), barWidth - gutter, Math.abs(zero - top));
    }

    private double yPixel(Rectangle2D plot, double value) {
        double unit = Math.max(-0.5, Math.min(1.5, yScale.unit(value)));
        return plot.getMaxY() - unit * plot.getHeight();
    }

    @Override
    protected void paintData(Graphics2D g, Rectangle2D plot) {
        double s = scale();
        for (int k = 0; k < series.size(); k++) {
            Series current = series.get(k);
            for (int c = 0; c < categories.size(); c++) {
                double value = current.values()[c];
                if (!Double.isFinite(value)) {
                    Rectangle2D slot = barRect(plot, c, k, 0);
                    g.setFont(font(10, false));
                    FontMetrics metrics = g.getFontMetrics();
                    if (metrics.stringWidth(missingLabel) <= slot.getWidth() + 4) {
                        g.setColor(TEXT);
                        drawText(g, missingLabel, slot.getCenterX(), yPixel(plot, 0) - 3 * s, 0.5, 1);
                    }
                    continue;
                }
                g.setColor(Palette.color(k));
                Rectangle2D bar = barRect(plot, c, k, value);
                g.fill(bar);
                if (current.lower() != null && Double.isFinite(current.lower()[c]) && Double.isFinite(current.upper()[c])) {
                    double x = bar.getCenterX();
                    double cap = Math.min(bar.getWidth() * 0.3, 7 * s);
                    double yLow = yPixel(plot, current.lower()[c]);
                    double yHigh = yPixel(plot, current.upper()[c]);
                    g.setColor(ERROR_BAR);
                    g.setStroke(new BasicStroke((float) (1.5 * s)));
                    g.draw(new Line2D.Double(x, yLow, x, yHigh));
                    g.draw(new Line2D.Double(x - cap, yLow, x + cap, yLow));
                    g.draw(new Line2D.Double(x - cap, yHigh, x + cap, yHigh));
                }
            }
        }
        // A zero line when bars go both ways; otherwise the bottom spine already is the baseline.
        double zeroUnit = yScale.unit(0);
        if (zeroUnit > 0.001 && zeroUnit < 0.999) {
            g.setColor(SPINE);
            g.setStroke(new BasicStroke((float) Math.max(1, s)));
            double y = yPixel(plot, 0);
            g.draw(new Line2D.Double(plot.getX(), y, plot.getMaxX(), y));
        }
    }

    @Override
    protected List<LegendEntry> legendEntries() {
        List<LegendEntry> entries = new ArrayList<>();
        if (series.size() == 1 && series.get(0).name().isEmpty()) {
            return entries;
        }
        for (int k = 0; k < series.size(); k++) {
            entries.add(new LegendEntry(series.get(k).name(), Palette.color(k), Glyph.BOX, null, null));
        }
        return entries;
    }

    @Override
    protected List<Shape> dataFootprint(Rectangle2D plot) {
        List<Shape> shapes = new ArrayList<>();
        for (int k = 0; k < series.size(); k++) {
            Series current = series.get(k);
            for (int c = 0; c < categories.size(); c++) {
                double top = current.values()[c];
                if (current.upper() != null && Double.isFinite(current.upper()[c])) {
                    top = Math.max(top, current.upper()[c]);
                }
                if (Double.isFinite(top)) {
                    shapes.add(barRect(plot, c, k, top));
                }
            }
        }
        return shapes;
    }
}
