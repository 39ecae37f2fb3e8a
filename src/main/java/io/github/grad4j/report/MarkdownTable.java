package io.github.grad4j.report;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.DoubleFunction;

/**
 * A table rendered as GitHub-flavoured Markdown or as fixed-width text for terminals. Cells may be
 * strings or numbers; floating-point numbers are formatted with a fixed number of significant
 * digits ({@link Numbers#sig}) and NaN with a caller-chosen text such as {@code "diverged"}. Columns
 * whose cells are all numbers are right-aligned unless an alignment is set explicitly. Example:
 *
 * <pre>{@code
 * String md = new MarkdownTable("method", "accuracy", "loss").nanText("diverged")
 *     .row("MAML", 0.9512, 0.31).row("Reptile", 0.93, Double.NaN).toMarkdown();
 * }</pre>
 */
public final class MarkdownTable {

    /** Column alignment. */
    public enum Align { LEFT, CENTER, RIGHT }

    private final List<String> header;
    private final List<List<String>> rows = new ArrayList<>();
    private final Align[] explicitAlign;
    private final boolean[] columnHasText;
    private int significantDigits = 4;
    private String nanText = "n/a";
    private DoubleFunction<String> numberFormat;

    /** A table with the given column headers. */
    public MarkdownTable(String... header) {
        if (header.length == 0) {
            throw new IllegalArgumentException("a table needs at least one column");
        }
        this.header = List.of(header);
        this.explicitAlign = new Align[header.length];
        this.columnHasText = new boolean[header.length];
    }

    /** Significant digits for floating-point cells added afterwards (default 4). */
    public MarkdownTable significantDigits(int digits) {
        this.significantDigits = digits;
        return this;
    }

    /** Text for NaN cells added afterwards (default {@code "n/a"}; e.g. {@code "diverged"}). */
    public MarkdownTable nanText(String text) {
        this.nanText = text;
        return this;
    }

    /** Custom formatter for floating-point cells added afterwards; overrides significant digits and NaN text. */
    public MarkdownTable numberFormat(DoubleFunction<String> format) {
        this.numberFormat = format;
        return this;
    }

    /** Sets the alignment of column {@code column} (0-based). */
    public MarkdownTable align(int column, Align alignment) {
        explicitAlign[column] = alignment;
        return this;
    }

    /**
     * Adds a row; it must have one cell per column. Doubles and floats are formatted, other numbers use
     * {@code toString}, null becomes an empty cell.
     */
    public MarkdownTable row(Object... cells) {
        if (cells.length != header.size()) {
            throw new IllegalArgumentException("row has " + cells.length + " cells but the table has "
                    + header.size() + " columns: " + Arrays.toString(cells));
        }
        List<String> formatted = new ArrayList<>(cells.length);
        for (int i = 0; i < cells.length; i++) {
            Object cell = cells[i];
            if (cell instanceof Double || cell instanceof Float) {
                double value = ((Number) cell).doubleValue();
                formatted.add(numberFormat != null ? numberFormat.apply(value) : Numbers.sig(value, significantDigits, nanText));
            } else if (cell instanceof Number) {
                formatted.add(cell.toString());
            } else {
                columnHasText[i] |= cell != null;
                formatted.add(cell == null ? "" : cell.toString());
            }
        }
        rows.add(formatted);
        return this;
    }

    /** Number of data rows. */
    public int rowCount() {
        return rows.size();
    }

    private Align alignment(int column) {
        if (explicitAlign[column] != null) {
            return explicitAlign[column];
        }
        return columnHasText[column] || rows.isEmpty() ? Align.LEFT : Align.RIGHT;
    }

    /** GitHub-flavoured Markdown with padded columns so the source is readable too. */
    public String toMarkdown() {
        int[] widths = widths(3, true);
        StringBuilder out = new StringBuilder();
        appendMarkdownRow(out, escapeAll(header), widths);
        out.append('|');
        for (int c = 0; c < widths.length; c++) {
            Align align = alignment(c);
            String dashes = "-".repeat(widths[c] - (align == Align.LEFT ? 0 : align == Align.RIGHT ? 1 : 2));
            out.append(' ')
                    .append(align == Align.CENTER ? ":" : "")
                    .append(dashes)
                    .append(align == Align.RIGHT || align == Align.CENTER ? ":" : "")
                    .append(" |");
        }
        out.append('\n');
        for (List<String> row : rows) {
            appendMarkdownRow(out, escapeAll(row), widths);
        }
        return out.toString();
    }

    /** Fixed-width text with a dashed rule under the header, for terminals and logs. */
    public String toPlainText() {
        int[] widths = widths(1, false);
        StringBuilder out = new StringBuilder();
        appendPlainRow(out, header, widths);
        for (int c = 0; c < widths.length; c++) {
            out.append(c == 0 ? "" : "  ").append("-".repeat(widths[c]));
        }
        out.append('\n');
        for (List<String> row : rows) {
            appendPlainRow(out, row, widths);
        }
        return out.toString();
    }

    @Override
    public String toString() {
        return toMarkdown();
    }

    private int[] widths(int minimum, boolean escaped) {
        int[] widths = new int[header.size()];
        Arrays.fill(widths, minimum);
        List<List<String>> all = new ArrayList<>();
        all.add(header);
        all.addAll(rows);
        for (List<String> row : all) {
            List<String> cells = escaped ? escapeAll(row) : row;
            for (int c = 0; c < cells.size(); c++) {
                widths[c] = Math.max(widths[c], cells.get(c).length());
            }
        }
        return widths;
    }

    private void appendMarkdownRow(StringBuilder out, List<String> cells, int[] widths) {
        out.append('|');
        for (int c = 0; c < cells.size(); c++) {
            out.append(' ').append(pad(cells.get(c), widths[c], alignment(c))).append(" |");
        }
        out.append('\n');
    }

    private void appendPlainRow(StringBuilder out, List<String> cells, int[] widths) {
        StringBuilder line = new StringBuilder();
        for (int c = 0; c < cells.size(); c++) {
            line.append(c == 0 ? "" : "  ").append(pad(cells.get(c).replace('\n', ' '), widths[c], alignment(c)));
        }
        out.append(line.toString().stripTrailing()).append('\n');
    }

    private static String pad(String text, int width, Align align) {
        int spare = width - text.length();
        if (spare <= 0) {
            return text;
        }
        switch (align) {
            case RIGHT:
                return " ".repeat(spare) + text;
            case CENTER:
                return " ".repeat(spare / 2) + text + " ".repeat(spare - spare / 2);
            default:
                return text + " ".repeat(spare);
        }
    }

    /** Pipes would end the cell and newlines the row; both are neutralised. */
    static String escape(String cell) {
        return cell.replace("\\", "\\\\").replace("|", "\\|").replace("\r\n", "<br>").replace("\n", "<br>");
    }

    private static List<String> escapeAll(List<String> cells) {
        List<String> escaped = new ArrayList<>(cells.size());
        for (String cell : cells) {
            escaped.add(escape(cell));
        }
        return escaped;
    }
}
