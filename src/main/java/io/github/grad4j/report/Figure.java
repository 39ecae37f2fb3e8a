package io.github.grad4j.report;

import io.github.grad4j.io.AtomicFiles;
import java.awt.AlphaComposite;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.GraphicsEnvironment;
import java.awt.RenderingHints;
import java.awt.Shape;
import java.awt.geom.AffineTransform;
import java.awt.geom.Ellipse2D;
import java.awt.geom.Line2D;
import java.awt.geom.Path2D;
import java.awt.geom.Rectangle2D;
import java.awt.geom.RoundRectangle2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/**
 * Common core of all plots: size, title, axis titles, fonts, layout of the plot area around tick
 * labels, grid, axes, legend placement and PNG output. Subclasses describe their axes and paint
 * their data; they never duplicate frame drawing.
 *
 * <p>Rendering uses only an off-screen {@link BufferedImage}, so it works without a display; the
 * class forces {@code java.awt.headless=true} unless the application chose otherwise.
 *
 * @param <T> the concrete plot type, so that builder methods chain without casts
 */
public abstract class Figure<T extends Figure<T>> {

    static {
        if (System.getProperty("java.awt.headless") == null) {
            System.setProperty("java.awt.headless", "true");
        }
    }

    /** Default width in pixels. */
    public static final int DEFAULT_WIDTH = 900;
    /** Default height in pixels. */
    public static final int DEFAULT_HEIGHT = 600;

    static final Color TEXT = new Color(0x222222);
    static final Color SPINE = new Color(0x555555);
    static final Color GRID = new Color(0xE3E3E3);
    static final Color MINOR_GRID = new Color(0xF2F2F2);
    private static final String FONT_FAMILY = pickFontFamily();
    private static final double ROTATION_RADIANS = Math.toRadians(35);
    private static final int MAX_LABEL_CHARS = 28;

    private int width = DEFAULT_WIDTH;
    private int height = DEFAULT_HEIGHT;
    private String title;
    private String xLabel;
    private String yLabel;

    /** One legend row. */
    protected record LegendEntry(String label, Color color, Glyph glyph, BasicStroke stroke, Palette.Marker marker) {}

    /** How a legend row's sample is drawn. */
    protected enum Glyph { LINE, LINE_AND_MARKER, MARKER, BOX, CROSS }

    /** Axes to draw for one rendering pass. */
    protected record Axes(AxisModel x, AxisModel y) {}

    /** Pixel geometry of one rendering pass. */
    protected record Layout(Rectangle2D plot, boolean rotateXLabels, double xTickLabelHeight) {}

    /** Sets the image size in pixels. */
    public T size(int widthPixels, int heightPixels) {
        if (widthPixels < 200 || heightPixels < 150) {
            throw new IllegalArgumentException("figure must be at least 200x150 pixels, got " + widthPixels + "x" + heightPixels);
        }
        this.width = widthPixels;
        this.height = heightPixels;
        return self();
    }

    /** Sets the title drawn above the plot (null for none). */
    public T title(String text) {
        this.title = text;
        return self();
    }

    /** Sets the horizontal axis title (null for none). */
    public T xLabel(String text) {
        this.xLabel = text;
        return self();
    }

    /** Sets the vertical axis title (null for none). */
    public T yLabel(String text) {
        this.yLabel = text;
        return self();
    }

    /** Width in pixels. */
    public int width() {
        return width;
    }

    /** Height in pixels. */
    public int height() {
        return height;
    }

    /** Renders the figure into a new RGB image of the configured size. */
    public final BufferedImage render() {
        BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            g.setRenderingHint(RenderingHints.KEY_FRACTIONALMETRICS, RenderingHints.VALUE_FRACTIONALMETRICS_ON);
            g.setRenderingHint(RenderingHints.KEY_STROKE_CONTROL, RenderingHints.VALUE_STROKE_PURE);
            g.setRenderingHint(RenderingHints.KEY_RENDERING, RenderingHints.VALUE_RENDER_QUALITY);
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, width, height);
            paintFigure(g);
        } finally {
            g.dispose();
        }
        return image;
    }

    /** Renders and writes a PNG atomically (temp file + move), creating parent directories. */
    public void writePng(Path file) throws IOException {
        AtomicFiles.writePng(file, render());
    }

    // ---------------------------------------------------------------- subclass hooks

    /** Validates data and computes the axes for this rendering pass. */
    protected abstract Axes prepareAxes();

    /** Paints the data inside {@code plot}; the graphics is clipped to the plot area. */
    protected abstract void paintData(Graphics2D g, Rectangle2D plot);

    /** Legend rows; empty for no legend. */
    protected List<LegendEntry> legendEntries() {
        return List.of();
    }

    /** Shapes the legend should avoid covering, in pixels for the given plot area. */
    protected List<Shape> dataFootprint(Rectangle2D plot) {
        return List.of();
    }

    /** Pixels to reserve right of the plot (e.g. for a colour bar). */
    protected double rightReserve(Graphics2D g) {
        return 0;
    }

    /** Paints into the reserved strip right of the plot. */
    protected void paintRightReserve(Graphics2D g, Rectangle2D plot) {}

    // ---------------------------------------------------------------- frame painting

    private void paintFigure(Graphics2D g) {
        Axes axes = prepareAxes();
        List<LegendEntry> legend = legendEntries();
        double reserve = rightReserve(g);
        Layout layout = layout(g, axes, reserve);
        Rectangle2D legendBox = null;
        if (!legend.isEmpty()) {
            Rectangle2D size = legendSize(g, legend);
            legendBox = bestInsidePlacement(size, layout.plot());
            if (legendBox == null) {
                // Every corner would hide data: shrink the plot and put the legend beside it.
                double gap = 12 * scale();
                layout = layout(g, axes, reserve + size.getWidth() + gap);
                Rectangle2D plot = layout.plot();
                legendBox = new Rectangle2D.Double(plot.getMaxX() + reserve + gap, plot.getY(), size.getWidth(), size.getHeight());
            }
        }
        Rectangle2D plot = layout.plot();
        drawGrid(g, plot, axes);
        Shape oldClip = g.getClip();
        g.clip(plot);
        paintData(g, plot);
        g.setClip(oldClip);
        drawAxes(g, layout, axes);
        paintRightReserve(g, plot);
        if (legendBox != null) {
            drawLegend(g, legend, legendBox);
        }
    }

    /** Figure-wide scale so fonts and strokes grow with larger images. */
    protected final double scale() {
        return Math.max(0.7, Math.min(2.5, Math.min(width / 900.0, height / 600.0)));
    }

    /** Font for tick labels, legends and annotations at the given base size (points at 900x600). */
    protected final Font font(double baseSize, boolean bold) {
        return new Font(FONT_FAMILY, bold ? Font.BOLD : Font.PLAIN, 1).deriveFont((float) (baseSize * scale()));
    }

    protected final Font tickFont() {
        return font(12, false);
    }

    private Font axisTitleFont() {
        return font(14, false);
    }

    private Font titleFont() {
        return font(17, true);
    }

    private Layout layout(Graphics2D g, Axes axes, double rightReserve) {
        double s = scale();
        double pad = 14 * s;
        double tickLength = 5 * s;
        FontMetrics tickMetrics = g.getFontMetrics(tickFont());
        FontMetrics axisMetrics = g.getFontMetrics(axisTitleFont());
        FontMetrics titleMetrics = g.getFontMetrics(titleFont());

        double top = pad + (title != null ? titleMetrics.getHeight() + 8 * s : tickMetrics.getHeight() / 2.0);
        double maxYLabel = 0;
        for (AxisModel.Tick tick : axes.y().major()) {
            maxYLabel = Math.max(maxYLabel, tickMetrics.stringWidth(shorten(tick.label())));
        }
        double left = pad + (yLabel != null ? axisMetrics.getHeight() + 6 * s : 0) + maxYLabel + tickLength + 4 * s;
        List<AxisModel.Tick> xTicks = axes.x().major();
        double firstXWidth = xTicks.isEmpty() ? 0 : tickMetrics.stringWidth(shorten(xTicks.get(0).label()));
        double lastXWidth = xTicks.isEmpty() ? 0 : tickMetrics.stringWidth(shorten(xTicks.get(xTicks.size() - 1).label()));
        double right = pad + rightReserve;
        if (!axes.x().categorical()) {
            // Centred labels of the outermost ticks must not be cut off by the image edge.
            right = Math.max(right, lastXWidth / 2 + 4 * s);
            left = Math.max(left, firstXWidth / 2 + 4 * s);
        }
        double plotWidth = width - left - right;

        boolean rotate = false;
        double maxXLabel = 0;
        for (AxisModel.Tick tick : xTicks) {
            maxXLabel = Math.max(maxXLabel, tickMetrics.stringWidth(shorten(tick.label())));
        }
        if (axes.x().categorical() && !xTicks.isEmpty()) {
            double slot = plotWidth / xTicks.size();
            rotate = maxXLabel > slot - 8 * s;
        }
        double xTickHeight = rotate
                ? Math.sin(ROTATION_RADIANS) * maxXLabel + Math.cos(ROTATION_RADIANS) * tickMetrics.getHeight()
                : tickMetrics.getHeight();
        if (rotate) {
            // Rotated labels hang down-left from their tick; the first one must stay inside the image.
            double overhang = Math.cos(ROTATION_RADIANS) * firstXWidth - xTicks.get(0).position() * plotWidth;
            left = Math.max(left, pad + overhang);
            plotWidth = width - left - right;
        }
        double bottom = pad + tickLength + 4 * s + xTickHeight + (xLabel != null ? axisMetrics.getHeight() + 6 * s : 0);
        double plotHeight = height - top - bottom;
        if (plotWidth < 40 || plotHeight < 40) {
            throw new IllegalStateException("figure " + width + "x" + height + " is too small for its labels");
        }
        return new Layout(new Rectangle2D.Double(left, top, plotWidth, plotHeight), rotate, xTickHeight);
    }

    private void drawGrid(Graphics2D g, Rectangle2D plot, Axes axes) {
        g.setStroke(new BasicStroke((float) Math.max(1, scale())));
        if (!axes.x().categorical()) {
            g.setColor(MINOR_GRID);
            for (double position : axes.x().minor()) {
                double x = plot.getX() + position * plot.getWidth();
                g.draw(new Line2D.Double(x, plot.getY(), x, plot.getMaxY()));
            }
            g.setColor(GRID);
            for (AxisModel.Tick tick : axes.x().major()) {
                double x = plot.getX() + tick.position() * plot.getWidth();
                g.draw(new Line2D.Double(x, plot.getY(), x, plot.getMaxY()));
            }
        }
        if (!axes.y().categorical()) {
            g.setColor(MINOR_GRID);
            for (double position : axes.y().minor()) {
                double y = plot.getMaxY() - position * plot.getHeight();
                g.draw(new Line2D.Double(plot.getX(), y, plot.getMaxX(), y));
            }
            g.setColor(GRID);
            for (AxisModel.Tick tick : axes.y().major()) {
                double y = plot.getMaxY() - tick.position() * plot.getHeight();
                g.draw(new Line2D.Double(plot.getX(), y, plot.getMaxX(), y));
            }
        }
    }

    private void drawAxes(Graphics2D g, Layout layout, Axes axes) {
        double s = scale();
        Rectangle2D plot = layout.plot();
        double tickLength = 5 * s;
        g.setStroke(new BasicStroke((float) Math.max(1, 1.2 * s)));
        g.setColor(SPINE);
        g.draw(new Line2D.Double(plot.getX(), plot.getMaxY(), plot.getMaxX(), plot.getMaxY()));
        g.draw(new Line2D.Double(plot.getX(), plot.getY(), plot.getX(), plot.getMaxY()));

        g.setFont(tickFont());
        FontMetrics metrics = g.getFontMetrics();
        // Minor ticks: short marks only, no labels.
        for (double position : axes.x().minor()) {
            double x = plot.getX() + position * plot.getWidth();
            g.draw(new Line2D.Double(x, plot.getMaxY(), x, plot.getMaxY() + tickLength / 2));
        }
        for (double position : axes.y().minor()) {
            double y = plot.getMaxY() - position * plot.getHeight();
            g.draw(new Line2D.Double(plot.getX() - tickLength / 2, y, plot.getX(), y));
        }
        for (AxisModel.Tick tick : axes.x().major()) {
            double x = plot.getX() + tick.position() * plot.getWidth();
            g.setColor(SPINE);
            g.draw(new Line2D.Double(x, plot.getMaxY(), x, plot.getMaxY() + tickLength));
            g.setColor(TEXT);
            String label = shorten(tick.label());
            double labelTop = plot.getMaxY() + tickLength + 3 * s;
            if (layout.rotateXLabels()) {
                AffineTransform saved = g.getTransform();
                g.translate(x, labelTop);
                g.rotate(-ROTATION_RADIANS);
                // The text ends at the tick, vertically centred on it, so it reads up towards the tick.
                g.drawString(label, (float) -metrics.stringWidth(label) - 2f,
                        (float) (metrics.getAscent() - metrics.getHeight() / 2.0 + 2 * s));
                g.setTransform(saved);
            } else {
                drawText(g, label, x, labelTop, 0.5, 0);
            }
        }
        for (AxisModel.Tick tick : axes.y().major()) {
            double y = plot.getMaxY() - tick.position() * plot.getHeight();
            g.setColor(SPINE);
            g.draw(new Line2D.Double(plot.getX() - tickLength, y, plot.getX(), y));
            g.setColor(TEXT);
            drawText(g, shorten(tick.label()), plot.getX() - tickLength - 4 * s, y, 1, 0.5);
        }

        g.setColor(TEXT);
        if (xLabel != null) {
            g.setFont(axisTitleFont());
            double y = plot.getMaxY() + tickLength + 4 * s + layout.xTickLabelHeight() + 6 * s;
            drawText(g, xLabel, plot.getCenterX(), y, 0.5, 0);
        }
        if (yLabel != null) {
            g.setFont(axisTitleFont());
            AffineTransform saved = g.getTransform();
            g.translate(14 * s, plot.getCenterY());
            g.rotate(-Math.PI / 2);
            drawText(g, yLabel, 0, 0, 0.5, 0);
            g.setTransform(saved);
        }
        if (title != null) {
            g.setFont(titleFont());
            double titleWidth = g.getFontMetrics().stringWidth(title);
            // Centre over the plot like most plotting libraries, unless that would run off the image.
            double centre = titleWidth / 2 + 14 * s <= Math.min(plot.getCenterX(), width - plot.getCenterX())
                    ? plot.getCenterX() : width / 2.0;
            drawText(g, title, centre, 14 * s, 0.5, 0);
        }
    }

    /**
     * Draws {@code text} with its bounding box anchored at (x, y): {@code alignX} 0 = left edge at x,
     * 0.5 = centred, 1 = right edge; {@code alignY} 0 = top at y, 0.5 = centred, 1 = bottom.
     */
    protected static void drawText(Graphics2D g, String text, double x, double y, double alignX, double alignY) {
        FontMetrics metrics = g.getFontMetrics();
        double textWidth = metrics.stringWidth(text);
        double textHeight = metrics.getAscent() + metrics.getDescent();
        float left = (float) (x - alignX * textWidth);
        float baseline = (float) (y - alignY * textHeight + metrics.getAscent());
        g.drawString(text, left, baseline);
    }

    /** Long category names are cut with an ellipsis so one label cannot squeeze the plot away. */
    static String shorten(String label) {
        return label.length() <= MAX_LABEL_CHARS ? label : label.substring(0, MAX_LABEL_CHARS - 1) + "\u2026";
    }

    // ---------------------------------------------------------------- legend

    private Rectangle2D legendSize(Graphics2D g, List<LegendEntry> entries) {
        double s = scale();
        FontMetrics metrics = g.getFontMetrics(font(12, false));
        double textWidth = 0;
        for (LegendEntry entry : entries) {
            textWidth = Math.max(textWidth, metrics.stringWidth(entry.label()));
        }
        double rowHeight = metrics.getHeight() + 3 * s;
        double boxWidth = 10 * s + 26 * s + 6 * s + textWidth + 10 * s;
        double boxHeight = 8 * s + rowHeight * entries.size() + 4 * s;
        return new Rectangle2D.Double(0, 0, boxWidth, boxHeight);
    }

    /** The inside corner whose box covers no data, preferring top-right; null if none is free. */
    private Rectangle2D bestInsidePlacement(Rectangle2D size, Rectangle2D plot) {
        double inset = 10 * scale();
        double w = size.getWidth();
        double h = size.getHeight();
        if (w > plot.getWidth() * 0.6 || h > plot.getHeight() * 0.8) {
            return null;
        }
        List<Shape> footprint = dataFootprint(plot);
        Rectangle2D[] corners = {
            new Rectangle2D.Double(plot.getMaxX() - w - inset, plot.getY() + inset, w, h),
            new Rectangle2D.Double(plot.getX() + inset, plot.getY() + inset, w, h),
            new Rectangle2D.Double(plot.getMaxX() - w - inset, plot.getMaxY() - h - inset, w, h),
            new Rectangle2D.Double(plot.getX() + inset, plot.getMaxY() - h - inset, w, h),
        };
        for (Rectangle2D corner : corners) {
            Rectangle2D margin = new Rectangle2D.Double(corner.getX() - 3, corner.getY() - 3, w + 6, h + 6);
            boolean free = footprint.stream().noneMatch(shape -> shape.intersects(margin));
            if (free) {
                return corner;
            }
        }
        return null;
    }

    private void drawLegend(Graphics2D g, List<LegendEntry> entries, Rectangle2D box) {
        double s = scale();
        g.setFont(font(12, false));
        FontMetrics metrics = g.getFontMetrics();
        double rowHeight = metrics.getHeight() + 3 * s;
        Shape frame = new RoundRectangle2D.Double(box.getX(), box.getY(), box.getWidth(), box.getHeight(), 6 * s, 6 * s);
        g.setComposite(AlphaComposite.getInstance(AlphaComposite.SRC_OVER, 0.92f));
        g.setColor(Color.WHITE);
        g.fill(frame);
        g.setComposite(AlphaComposite.SrcOver);
        g.setColor(new Color(0xCCCCCC));
        g.setStroke(new BasicStroke((float) Math.max(1, s)));
        g.draw(frame);
        double y = box.getY() + 8 * s + rowHeight / 2 - 1.5 * s;
        for (LegendEntry entry : entries) {
            double sampleLeft = box.getX() + 10 * s;
            double sampleWidth = 26 * s;
            g.setColor(entry.color());
            switch (entry.glyph()) {
                case LINE, LINE_AND_MARKER -> {
                    g.setStroke(entry.stroke());
                    g.draw(new Line2D.Double(sampleLeft, y, sampleLeft + sampleWidth, y));
                    if (entry.glyph() == Glyph.LINE_AND_MARKER) {
                        drawMarker(g, entry.marker(), sampleLeft + sampleWidth / 2, y, 4.5 * s);
                    }
                }
                case MARKER -> drawMarker(g, entry.marker(), sampleLeft + sampleWidth / 2, y, 4.5 * s);
                case BOX -> g.fill(new Rectangle2D.Double(sampleLeft + 3 * s, y - 6 * s, sampleWidth - 6 * s, 12 * s));
                case CROSS -> drawCross(g, sampleLeft + sampleWidth / 2, y, 5 * s);
            }
            g.setColor(TEXT);
            drawText(g, entry.label(), sampleLeft + sampleWidth + 6 * s, y, 0, 0.5);
            y += rowHeight;
        }
    }

    // ---------------------------------------------------------------- glyphs shared by plots

    /** Filled marker of the given shape with radius {@code r} centred at (x, y), with a white rim. */
    protected static void drawMarker(Graphics2D g, Palette.Marker marker, double x, double y, double r) {
        Shape shape = markerShape(marker, x, y, r);
        Color color = g.getColor();
        g.fill(shape);
        // A thin white outline keeps overlapping markers individually visible.
        g.setColor(Color.WHITE);
        g.setStroke(new BasicStroke((float) Math.max(0.8, r / 5)));
        g.draw(shape);
        g.setColor(color);
    }

    private static Shape markerShape(Palette.Marker marker, double x, double y, double r) {
        switch (marker) {
            case SQUARE:
                return new Rectangle2D.Double(x - r * 0.85, y - r * 0.85, r * 1.7, r * 1.7);
            case TRIANGLE:
                return polygon(new double[] {x, x + r * 1.1, x - r * 1.1}, new double[] {y - r * 1.15, y + r * 0.8, y + r * 0.8});
            case DIAMOND:
                return polygon(new double[] {x, x + r * 1.1, x, x - r * 1.1}, new double[] {y - r * 1.2, y, y + r * 1.2, y});
            case CROSS_PLUS: {
                double t = r * 0.4;
                return polygon(
                        new double[] {x - t, x + t, x + t, x + r, x + r, x + t, x + t, x - t, x - t, x - r, x - r, x - t},
                        new double[] {y - r, y - r, y - t, y - t, y + t, y + t, y + r, y + r, y + t, y + t, y - t, y - t});
            }
            case CIRCLE:
            default:
                return new Ellipse2D.Double(x - r, y - r, 2 * r, 2 * r);
        }
    }

    private static Shape polygon(double[] xs, double[] ys) {
        Path2D.Double path = new Path2D.Double();
        path.moveTo(xs[0], ys[0]);
        for (int i = 1; i < xs.length; i++) {
            path.lineTo(xs[i], ys[i]);
        }
        path.closePath();
        return path;
    }

    /** A bold 'x' of half-size {@code r}, used to flag where a run diverged. */
    protected final void drawCross(Graphics2D g, double x, double y, double r) {
        g.setStroke(new BasicStroke((float) (2.4 * scale()), BasicStroke.CAP_ROUND, BasicStroke.JOIN_ROUND));
        g.draw(new Line2D.Double(x - r, y - r, x + r, y + r));
        g.draw(new Line2D.Double(x - r, y + r, x + r, y - r));
    }

    @SuppressWarnings("unchecked")
    protected final T self() {
        return (T) this;
    }

    private static String pickFontFamily() {
        try {
            List<String> families = Arrays.asList(
                    GraphicsEnvironment.getLocalGraphicsEnvironment().getAvailableFontFamilyNames());
            // DejaVu Sans has the superscript digits used for 10^k labels and hinting that reads well small.
            for (String preferred : List.of("DejaVu Sans", "Liberation Sans", "Arial", "Helvetica")) {
                if (families.contains(preferred)) {
                    return preferred;
                }
            }
        } catch (RuntimeException | Error e) {
            // Font enumeration can fail on stripped-down JREs; the logical font always exists.
        }
        return Font.SANS_SERIF;
    }
}
