package io.github.grad4j.report;

import java.awt.AlphaComposite;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.Shape;
import java.awt.geom.Line2D;
import java.awt.geom.Path2D;
import java.awt.geom.Point2D;
import java.awt.geom.Rectangle2D;
import java.util.ArrayList;
import java.util.List;

/**
 * Shared engine of {@link LinePlot} and {@link ScatterPlot}: named (x, y) series on linear or log10
 * axes, optional shaded bands, point labels and divergence markers.
 *
 * <p>Non-finite y values (NaN, +-infinity) break the line; this is how diverged training runs are
 * shown. With {@link #markDivergence(boolean)} (on by default) the last finite point before such a
 * break gets an 'x'. On a log axis a non-positive finite value is an error (an
 * {@link IllegalArgumentException} naming the series, index and value is thrown when rendering):
 * silently dropping it would hide exactly the anomaly a reader needs to see.
 *
 * @param <T> concrete plot type for chaining
 */
public abstract class XYPlot<T extends XYPlot<T>> extends Figure<T> {

    /** Pixel coordinates are clamped here so wildly out-of-range data cannot overflow Java2D. */
    private static final double PIXEL_LIMIT = 1e6;

    private static final class Series {
        final String name;
        final double[] x;
        final double[] y;
        double[] bandLower;
        double[] bandUpper;
        String[] pointLabels;

        Series(String name, double[] x, double[] y) {
            this.name = name;
            this.x = x;
            this.y = y;
        }
    }

    private final List<Series> series = new ArrayList<>();
    private boolean logX;
    private boolean logY;
    private boolean lines;
    private boolean markers;
    private boolean divergenceMarks = true;
    private double[] xRange;
    private double[] yRange;

    // State of the current rendering pass.
    private Scale xScale;
    private Scale yScale;

    XYPlot(boolean lines, boolean markers) {
        this.lines = lines;
        this.markers = markers;
    }

    /** Adds a series; {@code x} and {@code y} must have equal length and are copied. */
    public T series(String name, double[] x, double[] y) {
        if (x.length != y.length) {
            throw new IllegalArgumentException("series '" + name + "': x has " + x.length + " points but y has " + y.length);
        }
        if (find(name) != null) {
            throw new IllegalArgumentException("duplicate series name '" + name + "'");
        }
        series.add(new Series(name, x.clone(), y.clone()));
        return self();
    }

    /** Adds a series with x = 0, 1, 2, ... */
    public T series(String name, double[] y) {
        double[] x = new double[y.length];
        for (int i = 0; i < x.length; i++) {
            x[i] = i;
        }
        return series(name, x, y);
    }

    /**
     * Shades the region between {@code lower} and {@code upper} (same x as the series), e.g. a
     * confidence interval or the min-max over seeds. Points where either bound is not finite leave a
     * gap in the band.
     */
    public T band(String seriesName, double[] lower, double[] upper) {
        Series target = require(seriesName);
        if (lower.length != target.x.length || upper.length != target.x.length) {
            throw new IllegalArgumentException("band for '" + seriesName + "' must have " + target.x.length + " points");
        }
        target.bandLower = lower.clone();
        target.bandUpper = upper.clone();
        return self();
    }

    /** Text drawn next to each point of a series (null entries are skipped). */
    public T pointLabels(String seriesName, String... labels) {
        Series target = require(seriesName);
        if (labels.length != target.x.length) {
            throw new IllegalArgumentException("series '" + seriesName + "' has " + target.x.length + " points but "
                    + labels.length + " labels");
        }
        target.pointLabels = labels.clone();
        return self();
    }

    /** Log10 horizontal axis (decade ticks labelled 10^k). */
    public T logX(boolean enabled) {
        this.logX = enabled;
        return self();
    }

    /** Log10 vertical axis (decade ticks labelled 10^k). */
    public T logY(boolean enabled) {
        this.logY = enabled;
        return self();
    }

    /** Fixes the x range instead of fitting the data; data outside is clipped. */
    public T xRange(double min, double max) {
        this.xRange = checkedRange(min, max);
        return self();
    }

    /** Fixes the y range instead of fitting the data, e.g. to keep a diverging run from squashing the others. */
    public T yRange(double min, double max) {
        this.yRange = checkedRange(min, max);
        return self();
    }

    /** Whether to draw an 'x' at the last finite point before NaN/infinite values (default true). */
    public T markDivergence(boolean enabled) {
        this.divergenceMarks = enabled;
        return self();
    }

    /** Enables or disables point markers (for subclasses that expose the choice). */
    protected final void setMarkers(boolean enabled) {
        this.markers = enabled;
    }

    /** Enables or disables connecting lines (for subclasses that expose the choice). */
    protected final void setLines(boolean enabled) {
        this.lines = enabled;
    }

    // ---------------------------------------------------------------- rendering

    @Override
    protected Axes prepareAxes() {
        if (logX || logY) {
            for (Series s : series) {
                if (logX) {
                    rejectNonPositive(s, "x", s.x);
                }
                if (logY) {
                    rejectNonPositive(s, "y", s.y);
                    if (s.bandLower != null) {
                        rejectNonPositive(s, "band lower", s.bandLower);
                        rejectNonPositive(s, "band upper", s.bandUpper);
                    }
                }
            }
        }
        xScale = buildScale(xRange, logX, true);
        yScale = buildScale(yRange, logY, false);
        return new Axes(xScale.axisModel(), yScale.axisModel());
    }

    private Scale buildScale(double[] fixed, boolean log, boolean horizontal) {
        double min = Double.POSITIVE_INFINITY;
        double max = Double.NEGATIVE_INFINITY;
        if (fixed != null) {
            min = fixed[0];
            max = fixed[1];
        } else {
            for (Series s : series) {
                for (int i = 0; i < s.x.length; i++) {
                    if (!Double.isFinite(s.x[i])) {
                        continue;
                    }
                    List<Double> values = new ArrayList<>(3);
                    if (horizontal) {
                        if (Double.isFinite(s.y[i]) || hasBand(s, i)) {
                            values.add(s.x[i]);
                        }
                    } else {
                        values.add(s.y[i]);
                        if (hasBand(s, i)) {
                            values.add(s.bandLower[i]);
                            values.add(s.bandUpper[i]);
                        }
                    }
                    for (double v : values) {
                        if (Double.isFinite(v)) {
                            min = Math.min(min, v);
                            max = Math.max(max, v);
                        }
                    }
                }
            }
        }
        if (min > max) { // no finite data at all: show an empty but valid frame
            min = log ? 1 : 0;
            max = log ? 10 : 1;
        }
        if (log) {
            return Scale.log10(min, max, fixed != null ? 0 : 0.04);
        }
        return fixed != null ? Scale.linear(min, max, 0) : Scale.linear(min, max, 0.04);
    }

    private static boolean hasBand(Series s, int i) {
        return s.bandLower != null && Double.isFinite(s.bandLower[i]) && Double.isFinite(s.bandUpper[i]);
    }

    private static void rejectNonPositive(Series s, String what, double[] values) {
        for (int i = 0; i < values.length; i++) {
            if (Double.isFinite(values[i]) && values[i] <= 0) {
                throw new IllegalArgumentException("log-scale axis cannot show non-positive " + what + " value "
                        + values[i] + " in series '" + s.name + "' at index " + i);
            }
        }
    }

    private Point2D.Double toPixel(Rectangle2D plot, double x, double y) {
        double px = plot.getX() + xScale.unit(x) * plot.getWidth();
        double py = plot.getMaxY() - yScale.unit(y) * plot.getHeight();
        return new Point2D.Double(clamp(px), clamp(py));
    }

    private static double clamp(double pixel) {
        return Math.max(-PIXEL_LIMIT, Math.min(PIXEL_LIMIT, pixel));
    }

    private static boolean finite(Series s, int i) {
        return Double.isFinite(s.x[i]) && Double.isFinite(s.y[i]);
    }

    private float lineWidth() {
        return (float) (2.2 * scale());
    }

    private double markerRadius() {
        return (lines ? 3.5 : 4.5) * scale();
    }

    @Override
    protected void paintData(Graphics2D g, Rectangle2D plot) {
        // Bands first so that no band hides another series' line.
        for (int index = 0; index < series.size(); index++) {
            Series s = series.get(index);
            if (s.bandLower != null) {
                g.setComposite(AlphaComposite.getInstance(AlphaComposite.SRC_OVER, 0.18f));
                g.setColor(Palette.color(index));
                for (Shape band : bandShapes(plot, s)) {
                    g.fill(band);
                }
                g.setComposite(AlphaComposite.SrcOver);
            }
        }
        for (int index = 0; index < series.size(); index++) {
            Series s = series.get(index);
            g.setColor(Palette.color(index));
            if (lines) {
                g.setStroke(Palette.lineStroke(index, lineWidth()));
                g.draw(linePath(plot, s));
            }
            if (markers) {
                for (int i = 0; i < s.x.length; i++) {
                    if (finite(s, i)) {
                        Point2D.Double p = toPixel(plot, s.x[i], s.y[i]);
                        drawMarker(g, Palette.marker(index), p.x, p.y, markerRadius());
                    }
                }
            }
            if (divergenceMarks) {
                for (int i : divergencePoints(s)) {
                    Point2D.Double p = toPixel(plot, s.x[i], s.y[i]);
                    drawCross(g, p.x, p.y, 6 * scale());
                }
            }
            if (s.pointLabels != null) {
                g.setFont(font(10.5, false));
                g.setColor(TEXT);
                for (int i = 0; i < s.x.length; i++) {
                    if (finite(s, i) && s.pointLabels[i] != null) {
                        Point2D.Double p = toPixel(plot, s.x[i], s.y[i]);
                        drawText(g, s.pointLabels[i], p.x + markerRadius() + 2 * scale(), p.y - markerRadius(), 0, 1);
                    }
                }
            }
        }
    }

    /** Indices of finite points directly followed by a non-finite y value. */
    private static List<Integer> divergencePoints(Series s) {
        List<Integer> points = new ArrayList<>();
        for (int i = 0; i + 1 < s.x.length; i++) {
            if (finite(s, i) && !Double.isFinite(s.y[i + 1])) {
                points.add(i);
            }
        }
        return points;
    }

    private Path2D linePath(Rectangle2D plot, Series s) {
        Path2D.Double path = new Path2D.Double();
        boolean penDown = false;
        for (int i = 0; i < s.x.length; i++) {
            if (!finite(s, i)) {
                penDown = false; // a gap: the next finite point starts a new segment
                continue;
            }
            Point2D.Double p = toPixel(plot, s.x[i], s.y[i]);
            if (penDown) {
                path.lineTo(p.x, p.y);
            } else {
                path.moveTo(p.x, p.y);
                penDown = true;
            }
        }
        return path;
    }

    private List<Shape> bandShapes(Rectangle2D plot, Series s) {
        List<Shape> shapes = new ArrayList<>();
        int i = 0;
        while (i < s.x.length) {
            if (!Double.isFinite(s.x[i]) || !hasBand(s, i)) {
                i++;
                continue;
            }
            int start = i;
            while (i < s.x.length && Double.isFinite(s.x[i]) && hasBand(s, i)) {
                i++;
            }
            Path2D.Double polygon = new Path2D.Double();
            for (int k = start; k < i; k++) {
                Point2D.Double p = toPixel(plot, s.x[k], s.bandUpper[k]);
                if (k == start) {
                    polygon.moveTo(p.x, p.y);
                } else {
                    polygon.lineTo(p.x, p.y);
                }
            }
            for (int k = i - 1; k >= start; k--) {
                Point2D.Double p = toPixel(plot, s.x[k], s.bandLower[k]);
                polygon.lineTo(p.x, p.y);
            }
            polygon.closePath();
            shapes.add(polygon);
        }
        return shapes;
    }

    @Override
    protected List<LegendEntry> legendEntries() {
        List<LegendEntry> entries = new ArrayList<>();
        boolean anyDivergence = false;
        for (int index = 0; index < series.size(); index++) {
            Series s = series.get(index);
            Glyph glyph = lines ? (markers ? Glyph.LINE_AND_MARKER : Glyph.LINE) : Glyph.MARKER;
            entries.add(new LegendEntry(s.name, Palette.color(index), glyph,
                    Palette.lineStroke(index, lineWidth()), Palette.marker(index)));
            anyDivergence |= divergenceMarks && !divergencePoints(s).isEmpty();
        }
        if (anyDivergence) {
            entries.add(new LegendEntry("diverged (NaN/inf next)", TEXT, Glyph.CROSS, null, null));
        }
        // A single unnamed-looking series needs no legend box.
        return entries.size() == 1 && series.size() == 1 && series.get(0).name.isEmpty() ? List.of() : entries;
    }

    @Override
    protected List<Shape> dataFootprint(Rectangle2D plot) {
        List<Shape> shapes = new ArrayList<>();
        double r = markerRadius() + 2;
        for (Series s : series) {
            Point2D.Double previous = null;
            for (int i = 0; i < s.x.length; i++) {
                if (!finite(s, i)) {
                    previous = null;
                    continue;
                }
                Point2D.Double p = toPixel(plot, s.x[i], s.y[i]);
                shapes.add(new Rectangle2D.Double(p.x - r, p.y - r, 2 * r, 2 * r));
                if (previous != null && lines) {
                    shapes.add(new Line2D.Double(previous, p));
                }
                if (s.pointLabels != null && s.pointLabels[i] != null) {
                    shapes.add(new Rectangle2D.Double(p.x, p.y - 4 * r, 8 * r, 4 * r));
                }
                previous = p;
            }
        }
        return shapes;
    }

    private Series find(String name) {
        for (Series s : series) {
            if (s.name.equals(name)) {
                return s;
            }
        }
        return null;
    }

    private Series require(String name) {
        Series s = find(name);
        if (s == null) {
            throw new IllegalArgumentException("no series named '" + name + "'; add it with series(...) first");
        }
        return s;
    }

    private static double[] checkedRange(double min, double max) {
        if (!Double.isFinite(min) || !Double.isFinite(max) || !(min < max)) {
            throw new IllegalArgumentException("range must be finite with min < max, got [" + min + ", " + max + "]");
        }
        return new double[] {min, max};
    }
}
