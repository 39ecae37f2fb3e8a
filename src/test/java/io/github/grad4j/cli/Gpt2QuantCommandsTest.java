package io.github.grad4j.cli;

import io.github.grad4j.backend.Backend;
import io.github.grad4j.tensor.Backends;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.*;

/** Usage errors of gpt2 qat / gpt2 quadapter are reported before any data is read or model trained. */
class Gpt2QuantCommandsTest {
    private Backend saved;

    // the commands select --device (cpu) as the process-wide default; later tests expect theirs back
    @BeforeEach
    void saveBackend() {
        saved = Backends.defaultBackend();
    }

    @AfterEach
    void restoreBackend() {
        Backends.setDefault(saved);
    }

    private static String[] run(int expectedCode, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        int code = Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        String o = out.toString(StandardCharsets.UTF_8), e = err.toString(StandardCharsets.UTF_8);
        assertEquals(expectedCode, code, o + e);
        return new String[]{o, e};
    }

    @Test
    void badSettingsAreUsageErrors() {
        assertTrue(run(Main.USAGE, "gpt2", "qat", "--text", "none.txt", "--bits", "W1A8")[1].contains("weight bits = 1 is out of range [2, 16]"));
        assertTrue(run(Main.USAGE, "gpt2", "qat", "--text", "none.txt", "--bits", "W8A99")[1].contains("activation bits = 99"));
        assertTrue(run(Main.USAGE, "gpt2", "qat", "--text", "none.txt", "--mode", "half")[1].contains("unknown mode 'half'"));
        assertTrue(run(Main.USAGE, "gpt2", "qat", "--text", "none.txt", "--param", "min-max,lsq")[1]
                .contains("unknown parameterization 'lsq'"));
        assertTrue(run(Main.USAGE, "gpt2", "qat", "--text", "none.txt", "--calibration", "kl")[1].contains("unknown calibration"));
        assertTrue(run(Main.USAGE, "gpt2", "qat")[1].contains("missing required option --text"));
        assertTrue(run(Main.USAGE, "gpt2", "quadapter", "--bits", "W8", "--data", "nowhere")[1].contains("W<bits>A<bits>"));
        assertTrue(run(Main.FAILURE, "gpt2", "quadapter", "--data", "nowhere")[1].contains("tinyshakespeare.txt: missing"));
    }

    @Test
    void lmHeadIsAFlagOfGpt2Qat() {
        // accepted as a flag (no value): the command gets past option parsing to reading the text
        assertTrue(run(Main.FAILURE, "gpt2", "qat", "--text", "none.txt", "--lm-head", "--bits", "W8A8")[1].contains("none.txt"));
        assertTrue(run(Main.FAILURE, "gpt2", "qat", "--lm-head", "--text", "none.txt")[1].contains("none.txt"));
        // gpt2 quadapter does not have it
        run(Main.USAGE, "gpt2", "quadapter", "--lm-head", "--data", "nowhere");
    }

    @Test
    void helpListsTheOptions() {
        String help = run(Main.OK, "gpt2", "qat", "--help")[0];
        for (String opt : new String[]{"--bits", "--param", "--lr", "--steps", "--mode", "--model", "--text", "--quick", "--lm-head"}) {
            assertTrue(help.contains(opt), opt);
        }
        assertTrue(run(Main.OK, "gpt2", "quadapter", "--help")[0].contains("--fractions"));
    }
}
