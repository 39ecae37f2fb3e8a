package io.github.grad4j.report;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.Shape;
import java.awt.geom.AffineTransform;
import java.awt.geom.Line2D;
import java.awt.geom.Rectangle2D;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.DoubleFunction;

/**
 * Matrix of values as coloured cells (row 0 at the top), e.g. final loss for bits x learning rate.
 * Colours come from {@link ColorMap#VIRIDIS} on a linear or log scale with a colour bar; cells can be
 * annotated with their value in black or white, whichever contrasts with the cell. NaN cells (e.g.
 * diverged runs) are drawn hatched grey with a short label ({@code "div"} by default). Example:
 *
 * <pre>{@code
 * new HeatMap().title("Final loss").xLabel("learning rate").yLabel("bits")
 *     .values(loss).rowLabels("2", "4", "8").columnLabels("1e-4", "1e-3", "1e-2")
 *     .annotate(true).logColor(true).colorBarLabel("loss")
 *     .writePng(Path.of("out/heat.png"));
 * }</pre>
 */
public final class HeatMap extends Figure<HeatMap> {

    private static final Color NAN_FILL = new Color(0xDDDDDD);
    private static final Color NAN_HATCH = new Color(0xB0B0B0);

    private double[][] values = new double[0][0];
    private List<String> rowLabels;
    private List<String> columnLabels;
    private boolean logColor;
    private boolean annotate;
    private DoubleFunction<String> valueFormat = v -> Numbers.sig(v, 3);
    private String nanLabel = "div";
    private String colorBarLabel;
    private double[] colorRange;
    private ColorMap colorMap = ColorMap.VIRIDIS;

    // State of the current rendering pass.
    private double colorLow;
    private double colorHigh;

    /** The matrix to show: {@code values[row][column]}, rectangular; copied. */
    public HeatMap values(double[][] matrix) {
        int columns = matrix.length == 0 ? 0 : matrix[0].length;
        double[][] copy = new double[matrix.length][];
        for (int r = 0; r < matrix.length; r++) {
            if (matrix[r].length != columns) {
                throw new IllegalArgumentException("row " + r + " has " + matrix[r].length + " columns, expected " + columns);
            }
            copy[r] = matrix[r].clone();
        }
        this.values = copy;
        return this;
    }

    /** Labels of the rows, top to bottom. Defaults to 0, 1, 2, ... */
    public HeatMap rowLabels(String... labels) {
        this.rowLabels = List.of(labels);
        return this;
    }

    /** Labels of the columns, left to right. Defaults to 0, 1, 2, ... */
    public HeatMap columnLabels(String... labels) {
        this.columnLabels = List.of(labels);
        return this;
    }

    /** Log10 colour scale; finite values must then be positive. */
    public HeatMap logColor(boolean enabled) {
        this.logColor = enabled;
        return this;
    }

    /** Writes each cell's value into the cell (if the text fits). */
    public HeatMap annotate(boolean enabled) {
        this.annotate = enabled;
        return this;
    }

    /** Formatter for cell annotations; default 3 significant digits. */
    public HeatMap valueFormat(DoubleFunction<String> format) {
        this.valueFormat = format;
        return this;
    }

    /** Text in NaN cells (default {@code "div"}); null or empty for none. */
    public HeatMap nanLabel(String label) {
        this.nanLabel = label;
        return this;
    }

    /** Title of the colour bar. */
    public HeatMap colorBarLabel(String label) {
        this.colorBarLabel = label;
        return this;
    }

    /** Fixes the value range mapped onto the colour map (values outside are clamped to the end colours). */
    public HeatMap colorRange(double min, double max) {
        if (!(min < max) || !Double.isFinite(min) || !Double.isFinite(max)) {
            throw new IllegalArgumentException("colour range must be finite with min < max");
        }
        this.colorRange = new double[] {min, max};
        return this;
    }

    /** Replaces the colour map (default viridis). */
    public HeatMap colorMap(ColorMap map) {
        this.colorMap = map;
        return this;
    }

    private int rows() {
        return values.length;
    }

    private int columns() {
        return values.length == 0 ? 0 : values[0].length;
    }

    @Override
    protected Axes prepareAxes() {
        if (rows() == 0 || columns() == 0) {
            throw new IllegalStateException("heat map has no values");
        }
        List<String> rowNames = labelsOrIndices(rowLabels, rows(), "row");
        List<String> columnNames = labelsOrIndices(columnLabels, columns(), "column");
        double min = Double.POSITIVE_INFINITY;
        double max = Double.NEGATIVE_INFINITY;
        for (int r = 0; r < rows(); r++) {
            for (int c = 0; c < columns(); c++) {
                double v = values[r][c];
                if (logColor && Double.isFinite(v) && v <= 0) {
                    throw new IllegalArgumentException("log colour scale cannot show non-positive value " + v
                            + " at row '" + rowNames.get(r) + "', column '" + columnNames.get(c) + "'");
                }
                if (Double.isFinite(v)) {
                    min = Math.min(min, v);
                    max = Math.max(max, v);
                }
            }
        }
        if (colorRange != null) {
            min = colorRange[0];
            max = colorRange[1];
        } else if (min > max) { // everything diverged
            min = logColor ? 1 : 0;
            max = logColor ? 10 : 1;
        } else if (min == max) {
            max = logColor ? min * 10 : min + 1;
        }
        colorLow = min;
        colorHigh = max;
        return new Axes(AxisModel.categorical(columnNames, false), AxisModel.categorical(rowNames, true));
    }

    private static List<String> labelsOrIndices(List<String> labels, int count, String what) {
        if (labels == null) {
            List<String> indices = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                indices.add(Integer.toString(i));
            }
            return indices;
        }
        if (labels.size() != count) {
            throw new IllegalArgumentException(count + " " + what + "s but " + labels.size() + " " + what + " labels");
        }
        return labels;
    }

    /** Position of a value on the colour map, in [0, 1] for in-range values. */
    private double colorPosition(double v) {
        if (logColor) {
            return (Math.log10(v) - Math.log10(colorLow)) / (Math.log10(colorHigh) - Math.log10(colorLow));
        }
        return (v - colorLow) / (colorHigh - colorLow);
    }

    @Override
    protected void paintData(Graphics2D g, Rectangle2D plot) {
        double cellWidth = plot.getWidth() / columns();
        double cellHeight = plot.getHeight() / rows();
        for (int r = 0; r < rows(); r++) {
            for (int c = 0; c < columns(); c++) {
                Rectangle2D cell = new Rectangle2D.Double(plot.getX() + c * cellWidth, plot.getY() + r * cellHeight,
                        cellWidth, cellHeight);
                double v = values[r][c];
                if (Double.isNaN(v)) {
                    paintNanCell(g, cell);
                    continue;
                }
                // +-infinity are clamped to the ends of the colour map (position is +-inf).
                Color fill = colorMap.at(colorPosition(v));
                g.setColor(fill);
                g.fill(cell);
                if (annotate) {
                    drawCellText(g, cell, valueFormat.apply(v), ColorMap.contrastingText(fill));
                }
            }
        }
        // Thin white separators make neighbouring cells of similar colour distinguishable.
        g.setColor(Color.WHITE);
        g.setStroke(new BasicStroke((float) Math.max(1, scale())));
        for (int c = 1; c < columns(); c++) {
            double x = plot.getX() + c * cellWidth;
            g.draw(new Line2D.Double(x, plot.getY(), x, plot.getMaxY()));
        }
        for (int r = 1; r < rows(); r++) {
            double y = plot.getY() + r * cellHeight;
            g.draw(new Line2D.Double(plot.getX(), y, plot.getMaxX(), y));
        }
    }

    private void paintNanCell(Graphics2D g, Rectangle2D cell) {
        g.setColor(NAN_FILL);
        g.fill(cell);
        Shape oldClip = g.getClip();
        g.clip(cell);
        g.setColor(NAN_HATCH);
        g.setStroke(new BasicStroke((float) Math.max(1, scale())));
        double spacing = 8 * scale();
        for (double offset = -cell.getHeight(); offset < cell.getWidth(); offset += spacing) {
            g.draw(new Line2D.Double(cell.getX() + offset, cell.getMaxY(), cell.getX() + offset + cell.getHeight(), cell.getY()));
        }
        g.setClip(oldClip);
        if (nanLabel != null && !nanLabel.isEmpty()) {
            // The label sits on a small opaque patch so the hatching does not cut through the text.
            drawCellText(g, cell, nanLabel, TEXT, NAN_FILL);
        }
    }

    private void drawCellText(Graphics2D g, Rectangle2D cell, String text, Color color) {
        drawCellText(g, cell, text, color, null);
    }

    /** Draws centred text at the largest size up to 12pt that fits, or nothing if even 7pt does not fit. */
    private void drawCellText(Graphics2D g, Rectangle2D cell, String text, Color color, Color patch) {
        for (double size = 12; size >= 7; size -= 0.5) {
            g.setFont(font(size, false));
            FontMetrics metrics = g.getFontMetrics();
            double textWidth = metrics.stringWidth(text);
            double textHeight = metrics.getAscent() + metrics.getDescent();
            if (textWidth <= cell.getWidth() - 6 && textHeight <= cell.getHeight() - 4) {
                if (patch != null) {
                    g.setColor(patch);
                    g.fill(new Rectangle2D.Double(cell.getCenterX() - textWidth / 2 - 3, cell.getCenterY() - textHeight / 2 - 1,
                            textWidth + 6, textHeight + 2));
                }
                g.setColor(color);
                drawText(g, text, cell.getCenterX(), cell.getCenterY(), 0.5, 0.5);
                return;
            }
        }
    }

    // ---------------------------------------------------------------- colour bar

    private double barWidth() {
        return 18 * scale();
    }

    private double barGap() {
        return 20 * scale();
    }

    private List<AxisModel.Tick> colorBarTicks() {
        List<AxisModel.Tick> ticks = new ArrayList<>();
        if (logColor) {
            Ticks.TickSet logTicks = Ticks.log(colorLow, colorHigh);
            if (logTicks.values().size() >= 2) {
                for (int i = 0; i < logTicks.values().size(); i++) {
                    ticks.add(new AxisModel.Tick(colorPosition(logTicks.values().get(i)), logTicks.labels().get(i)));
                }
                return ticks;
            }
            // Too narrow even for 1-2-5 values: plain nice values placed at their log positions.
        }
        Ticks.TickSet linear = Ticks.linear(colorLow, colorHigh, 5);
        for (int i = 0; i < linear.values().size(); i++) {
            ticks.add(new AxisModel.Tick(colorPosition(linear.values().get(i)), linear.labels().get(i)));
        }
        return ticks;
    }

    @Override
    protected double rightReserve(Graphics2D g) {
        FontMetrics metrics = g.getFontMetrics(tickFont());
        double labelWidth = 0;
        for (AxisModel.Tick tick : colorBarTicks()) {
            labelWidth = Math.max(labelWidth, metrics.stringWidth(tick.label()));
        }
        double titleWidth = colorBarLabel == null ? 0 : g.getFontMetrics(font(13, false)).getHeight() + 8 * scale();
        return barGap() + barWidth() + 5 * scale() + 4 * scale() + labelWidth + titleWidth;
    }

    @Override
    protected void paintRightReserve(Graphics2D g, Rectangle2D plot) {
        double s = scale();
        double left = plot.getMaxX() + barGap();
        double top = plot.getY();
        double height = plot.getHeight();
        for (int i = 0; i < (int) Math.ceil(height); i++) {
            double position = 1 - (i + 0.5) / height;
            g.setColor(colorMap.at(position));
            g.fill(new Rectangle2D.Double(left, top + i, barWidth(), Math.min(1.0, height - i) + 0.5));
        }
        g.setColor(SPINE);
        g.setStroke(new BasicStroke((float) Math.max(1, s)));
        g.draw(new Rectangle2D.Double(left, top, barWidth(), height));
        g.setFont(tickFont());
        FontMetrics metrics = g.getFontMetrics();
        double labelWidth = 0;
        for (AxisModel.Tick tick : colorBarTicks()) {
            double y = top + height - tick.position() * height;
            g.setColor(SPINE);
            g.draw(new Line2D.Double(left + barWidth(), y, left + barWidth() + 5 * s, y));
            g.setColor(TEXT);
            drawText(g, tick.label(), left + barWidth() + 9 * s, y, 0, 0.5);
            labelWidth = Math.max(labelWidth, metrics.stringWidth(tick.label()));
        }
        if (colorBarLabel != null) {
            g.setFont(font(13, false));
            AffineTransform saved = g.getTransform();
            g.translate(left + barWidth() + 9 * s + labelWidth + 8 * s, top + height / 2);
            g.rotate(-Math.PI / 2);
            // Reads bottom-to-top like the y-axis title, with its top facing the colour bar.
            drawText(g, colorBarLabel, 0, 0, 0.5, 0);
            g.setTransform(saved);
        }
    }

    @Override
    public String toString() {
        return "HeatMap" + Arrays.deepToString(values);
    }
}
