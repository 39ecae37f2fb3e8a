package io.github.grad4j.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

/** The README's main job runs end to end (in its quick form) and writes its report and plots. */
class DemoCommandTest {

    @Test
    void quickDemoWritesReportTableAndPlots(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("demo");
        ByteArrayOutputStream o = new ByteArrayOutputStream(), e = new ByteArrayOutputStream();
        int code = Main.run(new String[]{"demo", "--quick", "--steps", "8", "--out", out.toString(), "--device", "cpu"},
                new PrintStream(o, true, StandardCharsets.UTF_8), new PrintStream(e, true, StandardCharsets.UTF_8));
        String stdout = o.toString(StandardCharsets.UTF_8);
        assertEquals(Main.OK, code, e.toString(StandardCharsets.UTF_8));
        // the comparison table names every parameterization at every bit setting
        for (String p : new String[]{"scale-offset", "min-max", "beta-gamma", "beta-gamma-sigmoid"}) {
            assertTrue(stdout.contains("W8A8  " + p) && stdout.contains("W4A4  " + p), stdout);
        }
        String report = Files.readString(out.resolve("report.md"));
        assertTrue(report.contains("| W4A4 | min-max"), report);
        for (String png : new String[]{"train/loss.png", "quant/perplexity.png", "quant/loss_W8A8.png", "quant/loss_W4A4.png"}) {
            assertTrue(report.contains(png), png + " is linked from the report");
            assertNotNull(ImageIO.read(out.resolve(png).toFile()), png + " is a readable PNG");
        }
        assertTrue(Files.size(out.resolve("quant/results.csv")) > 0);
    }

    @Test
    void refusesToOverwriteAnEarlierRunAndRejectsBadText(@TempDir Path tmp) throws Exception {
        Path empty = Files.writeString(tmp.resolve("empty.txt"), "  \n");
        ByteArrayOutputStream e = new ByteArrayOutputStream();
        int code = Main.run(new String[]{"demo", "--quick", "--text", empty.toString(), "--out", tmp.resolve("x").toString()},
                new PrintStream(new ByteArrayOutputStream()), new PrintStream(e, true, StandardCharsets.UTF_8));
        assertEquals(Main.FAILURE, code);
        assertTrue(e.toString(StandardCharsets.UTF_8).contains("empty"), e.toString(StandardCharsets.UTF_8));
    }
}
