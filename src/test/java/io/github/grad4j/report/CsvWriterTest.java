package io.github.grad4j.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CsvWriterTest {

    /** Minimal RFC 4180 reader, independent of the writer's code. */
    static List<List<String>> parse(String text) {
        List<List<String>> records = new ArrayList<>();
        List<String> record = new ArrayList<>();
        StringBuilder field = new StringBuilder();
        boolean quoted = false;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (quoted) {
                if (c == '"' && i + 1 < text.length() && text.charAt(i + 1) == '"') {
                    field.append('"');
                    i++;
                } else if (c == '"') {
                    quoted = false;
                } else {
                    field.append(c);
                }
            } else if (c == '"') {
                quoted = true;
            } else if (c == ',') {
                record.add(field.toString());
                field.setLength(0);
            } else if (c == '\n') {
                record.add(field.toString());
                field.setLength(0);
                records.add(record);
                record = new ArrayList<>();
            } else {
                field.append(c);
            }
        }
        return records;
    }

    @Test
    void roundTripsAwkwardTextAndFullPrecisionNumbers(@TempDir Path dir) throws IOException {
        String awkward = "a, \"quoted\" value\non two lines";
        double third = 1.0 / 3.0;
        CsvWriter csv = new CsvWriter("name", "value", "note")
                .row(awkward, third, null)
                .row("plain", Double.NaN, " padded ")
                .row("tiny", 1e-300, "x\r\ny")
                .row("float", 0.1f, 42L);
        Path file = dir.resolve("sub/dir/metrics.csv");
        csv.write(file);

        List<List<String>> records = parse(Files.readString(file, StandardCharsets.UTF_8));
        assertEquals(List.of("name", "value", "note"), records.get(0));
        assertEquals(List.of(awkward, Double.toString(third), ""), records.get(1));
        assertEquals(third, Double.parseDouble(records.get(1).get(1)));
        assertEquals(List.of("plain", "NaN", " padded "), records.get(2));
        assertEquals(1e-300, Double.parseDouble(records.get(3).get(1)));
        assertEquals("x\r\ny", records.get(3).get(2));
        assertEquals(List.of("float", "0.1", "42"), records.get(4));
        assertEquals(5, records.size());
    }

    @Test
    void quotesOnlyWhenNeeded() {
        assertEquals("abc", CsvWriter.escape("abc"));
        assertEquals("\"a,b\"", CsvWriter.escape("a,b"));
        assertEquals("\"say \"\"hi\"\"\"", CsvWriter.escape("say \"hi\""));
    }

    @Test
    void rejectsRowsOfTheWrongLength() {
        assertThrows(IllegalArgumentException.class, () -> new CsvWriter("a", "b").row(1));
    }
}
