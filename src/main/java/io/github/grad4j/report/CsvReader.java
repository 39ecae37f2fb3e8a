package io.github.grad4j.report;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads back the simple CSV files {@link CsvWriter} writes (a header line, then comma-separated
 * fields without quoting), with errors that name the file and the line.
 */
public final class CsvReader {
    private CsvReader() {
    }

    /**
     * The data rows of {@code file}, each with as many fields as {@code header} has; the file's
     * first line must equal {@code header}.
     *
     * @throws IllegalArgumentException on another header or a row with another field count
     */
    public static List<String[]> rows(Path file, String header) throws IOException {
        List<String> lines = Files.readAllLines(file);
        if (lines.isEmpty() || !lines.get(0).equals(header)) {
            throw new IllegalArgumentException(file + ": expected the header " + header);
        }
        return fields(file, lines, header.split(",").length);
    }

    /**
     * The data rows of {@code file} (its header is skipped) as numbers, {@code columns} per row.
     *
     * @throws IllegalArgumentException on a row with another field count or a field that is not a number
     */
    public static List<double[]> numbers(Path file, int columns) throws IOException {
        List<double[]> out = new ArrayList<>();
        List<String[]> rows = fields(file, Files.readAllLines(file), columns);
        for (int i = 0; i < rows.size(); i++) {
            double[] row = new double[columns];
            try {
                for (int c = 0; c < columns; c++) row[c] = Double.parseDouble(rows.get(i)[c]);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(file + " line " + (i + 2) + ": not a number (" + e.getMessage() + ")");
            }
            out.add(row);
        }
        return out;
    }

    private static List<String[]> fields(Path file, List<String> lines, int columns) {
        List<String[]> out = new ArrayList<>();
        for (int i = 1; i < lines.size(); i++) {
            String[] f = lines.get(i).split(",");
            if (f.length != columns) {
                throw new IllegalArgumentException(file + " line " + (i + 1) + ": expected " + columns + " fields, got " + f.length);
            }
            out.add(f);
        }
        return out;
    }
}
