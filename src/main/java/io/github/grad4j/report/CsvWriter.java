package io.github.grad4j.report;

import io.github.grad4j.io.AtomicFiles;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Builds a CSV file (RFC 4180 quoting, {@code \n} line endings) in memory and writes it atomically.
 * Doubles are written with {@link Double#toString}, the shortest text that parses back to the
 * identical value, so no precision is lost; NaN and infinities appear as {@code NaN},
 * {@code Infinity}, {@code -Infinity}. Example:
 *
 * <pre>{@code
 * new CsvWriter("step", "loss", "note").row(1, 2.5, "warm-up, lr=1e-3").write(Path.of("out/metrics.csv"));
 * }</pre>
 */
public final class CsvWriter {

    private final List<String> header;
    private final List<List<String>> rows = new ArrayList<>();

    /** A CSV document with the given column names. */
    public CsvWriter(String... header) {
        if (header.length == 0) {
            throw new IllegalArgumentException("a CSV file needs at least one column");
        }
        this.header = List.of(header);
    }

    /** Adds a row with one value per column; null becomes an empty field. */
    public CsvWriter row(Object... values) {
        if (values.length != header.size()) {
            throw new IllegalArgumentException("row has " + values.length + " values but the header has "
                    + header.size() + " columns: " + Arrays.toString(values));
        }
        List<String> fields = new ArrayList<>(values.length);
        for (Object value : values) {
            fields.add(format(value));
        }
        rows.add(fields);
        return this;
    }

    /** Number of data rows. */
    /** The header line as written (fields joined by commas), e.g. to check a file read back. */
    public String header() {
        return String.join(",", header.stream().map(CsvWriter::escape).toList());
    }

    public int rowCount() {
        return rows.size();
    }

    /** The whole document, header first, each record terminated by {@code \n}. */
    public String toCsv() {
        StringBuilder out = new StringBuilder();
        appendRecord(out, header);
        for (List<String> row : rows) {
            appendRecord(out, row);
        }
        return out.toString();
    }

    /** Writes the document atomically (temp file + move), creating parent directories. */
    public void write(Path file) throws IOException {
        AtomicFiles.writeString(file, toCsv());
    }

    /** Quotes a field if it contains a comma, quote, CR or LF (or surrounding spaces), doubling inner quotes. */
    public static String escape(String field) {
        boolean needsQuotes = field.indexOf(',') >= 0 || field.indexOf('"') >= 0 || field.indexOf('\n') >= 0
                || field.indexOf('\r') >= 0 || (!field.isEmpty() && (field.charAt(0) == ' ' || field.endsWith(" ")));
        return needsQuotes ? '"' + field.replace("\"", "\"\"") + '"' : field;
    }

    private static String format(Object value) {
        if (value == null) {
            return "";
        }
        if (value instanceof Float) {
            // Widening a float prints spurious digits (0.1f -> 0.10000000149011612); Float.toString does not.
            return Float.toString((Float) value);
        }
        if (value instanceof Double) {
            return Double.toString((Double) value);
        }
        return value.toString();
    }

    private static void appendRecord(StringBuilder out, List<String> fields) {
        for (int i = 0; i < fields.size(); i++) {
            if (i > 0) {
                out.append(',');
            }
            out.append(escape(fields.get(i)));
        }
        out.append('\n');
    }
}
