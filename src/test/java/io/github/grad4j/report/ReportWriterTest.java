package io.github.grad4j.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReportWriterTest {

    @Test
    void writesSectionsWithRelativeImagePaths(@TempDir Path dir) throws IOException {
        Path reportFile = dir.resolve("runs/qat/report.md");
        ReportWriter report = new ReportWriter(reportFile)
                .heading(1, "QAT sweep")
                .paragraph("Final loss per bit width.")
                .bullets(List.of("seeds: 3", "steps: 1000"))
                .table(new MarkdownTable("bits", "loss").row("4", 0.5))
                .figure("Loss curves", new LinePlot().series("a", new double[] {1, 2, 3}), "figs/loss.png")
                .image("external", dir.resolve("other/plot.png"))
                .code("bash", "java -jar grad4j.jar qat --bits 4 # uses ``` inside");
        report.write();

        assertTrue(Files.size(reportFile.resolveSibling("figs/loss.png")) > 1000, "figure PNG written next to report");
        String expected = "# QAT sweep\n\n"
                + "Final loss per bit width.\n\n"
                + "- seeds: 3\n- steps: 1000\n\n"
                + "| bits |   loss |\n| ---- | -----: |\n| 4    | 0.5000 |\n\n"
                + "![Loss curves](figs/loss.png)\n\n"
                + "![external](../../other/plot.png)\n\n"
                + "````bash\njava -jar grad4j.jar qat --bits 4 # uses ``` inside\n````\n";
        assertEquals(expected, Files.readString(reportFile));
    }
}
