package io.github.grad4j.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class ProgressTest {

    private static final long SECOND = 1_000_000_000L;

    private final AtomicLong clock = new AtomicLong(5 * SECOND); // arbitrary origin, like nanoTime
    private final ByteArrayOutputStream buffer = new ByteArrayOutputStream();

    private Progress.Builder builder(long total) {
        return Progress.builder(total).out(new PrintStream(buffer, true, StandardCharsets.UTF_8))
                .clock(clock::get).unitName("tok");
    }

    private String output() {
        return buffer.toString(StandardCharsets.UTF_8);
    }

    @Test
    void lineShowsBarMetricsRateElapsedAndEta() {
        Progress progress = builder(1000).interactive(false).build();
        // 10 steps and 15,000 tokens per second.
        for (int second = 1; second <= 12; second++) {
            clock.addAndGet(SECOND);
            progress.metric("loss", 3.21012).update(second * 10L, 15_000);
        }
        assertEquals("step 120/1000 [==>                 ] 12% loss 3.2101 | 15.0k tok/s | elapsed 12s | left 1m28s",
                progress.currentLine());
    }

    @Test
    void nonInteractiveModePrintsFullLinesEveryInterval() {
        Progress progress = builder(100).interactive(false).lineInterval(Duration.ofSeconds(10)).build();
        for (int second = 1; second <= 25; second++) {
            clock.addAndGet(SECOND);
            progress.update(second, 1);
        }
        progress.finish();
        String[] lines = output().split("\n");
        // Printed at 1 s, 11 s, 21 s, plus the final line.
        assertEquals(4, lines.length, output());
        assertTrue(lines[0].startsWith("step 1/100 "), lines[0]);
        assertTrue(lines[1].startsWith("step 11/100 "), lines[1]);
        assertTrue(lines[2].startsWith("step 21/100 "), lines[2]);
        assertEquals("step 25/100 [=====>              ] 25% | 1.00 tok/s avg | total 25s", lines[3]);
        assertFalse(output().contains("\r"));
    }

    @Test
    void rateAndEtaFollowTheSlidingWindow() {
        Progress progress = builder(10_000).interactive(false).window(Duration.ofSeconds(30)).build();
        long step = 0;
        for (int second = 1; second <= 60; second++) { // slow phase: 10 steps/s, 100 tok/s
            clock.addAndGet(SECOND);
            step += 10;
            progress.update(step, 100);
        }
        for (int second = 1; second <= 40; second++) { // fast phase: 50 steps/s, 1000 tok/s
            clock.addAndGet(SECOND);
            step += 50;
            progress.update(step, 1000);
        }
        // Only the fast phase is inside the 30 s window: 1000 tok/s, (10000 - 2600) / 50 = 148 s left.
        String line = progress.currentLine();
        assertTrue(line.contains("| 1.00k tok/s |"), line);
        assertTrue(line.endsWith("| elapsed 1m40s | left 2m28s"), line);
    }

    @Test
    void interactiveModeRedrawsInPlaceAndEndsWithNewline() {
        Progress progress = builder(3).interactive(true).redrawInterval(Duration.ZERO).build();
        for (int step = 1; step <= 3; step++) {
            clock.addAndGet(SECOND);
            progress.metric("acc", "0.9" + step).update(step, 10);
        }
        progress.finish();
        progress.finish(); // idempotent
        String out = output();
        assertEquals(4, out.chars().filter(c -> c == '\r').count(), out);
        assertEquals(1, out.chars().filter(c -> c == '\n').count(), out);
        assertTrue(out.endsWith("\n"), out);
        // The final line is padded with spaces to wipe the longer line it overwrites.
        assertTrue(out.stripTrailing().endsWith("\rstep 3/3 [====================] 100% acc 0.93 | 10.0 tok/s avg | total 3s"), out);
    }

    @Test
    void unknownTotalOmitsBarAndEta() {
        Progress progress = Progress.builder(0).out(new PrintStream(buffer, true, StandardCharsets.UTF_8))
                .clock(clock::get).interactive(false).build();
        clock.addAndGet(2 * SECOND);
        progress.update(7);
        assertEquals("step 7 | elapsed 2s", progress.currentLine());
    }
}
