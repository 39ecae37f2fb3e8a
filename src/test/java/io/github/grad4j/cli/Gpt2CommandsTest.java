package io.github.grad4j.cli;

import io.github.grad4j.experiments.gpt2.Gpt2Checkpoint;
import io.github.grad4j.experiments.gpt2.Gpt2Config;
import io.github.grad4j.experiments.gpt2.Gpt2Model;
import io.github.grad4j.experiments.gpt2.Gpt2Trainer;
import io.github.grad4j.experiments.gpt2.tokenizer.Gpt2Tokenizer;
import io.github.grad4j.tensor.Rng;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.*;

/** gpt2 train / eval / generate through {@link Main#run}, as a person would call them: exit codes and messages. */
class Gpt2CommandsTest {
    static final String TEXT = "The cat sat on the mat. The dog sat on the log. A bird sang in the tree, and the cat "
            + "watched the bird while the dog slept by the fire.\n";

    record Run(int code, String out, String err) {
    }

    static Run run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        int code = Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    static void assertFailsCleanly(Run r, int code, String messagePart) {
        assertEquals(code, r.code(), r.err());
        assertTrue(r.err().contains(messagePart), "expected '" + messagePart + "' in: " + r.err());
        assertFalse(r.err().contains("\tat io.github"), "no stack trace without --verbose: " + r.err());
    }

    /** A tiny model with a 300-token vocabulary saved as a Hugging Face folder (most GPT-2 ids are unknown to it). */
    static Path tinyVocabModel(Path dir) throws IOException {
        Gpt2Checkpoint.save(new Gpt2Model(new Gpt2Config(1, 1, 8, 8, 300), new Rng(1)), dir);
        return dir;
    }

    @Test
    void everyCommandHasHelp() {
        for (String[] cmd : new String[][]{{"gpt2", "train"}, {"gpt2", "eval"}, {"gpt2", "generate"}}) {
            Run r = run(cmd[0], cmd[1], "--help");
            assertEquals(Main.OK, r.code());
            assertTrue(r.out().startsWith("usage: java -jar grad4j.jar gpt2 " + cmd[1]), r.out());
            assertTrue(r.out().contains("--device") && r.out().contains("opencl"), r.out());
        }
        assertTrue(run("gpt2", "train", "--help").out().contains("--resume"));
        assertTrue(run("gpt2", "eval", "--help").out().contains("--stride N"));
        assertTrue(run("gpt2", "generate", "--help").out().contains("--top-k K"));
        assertTrue(run("--help").out().contains("gpt2 generate"));
    }

    @Test
    void trainThenEvaluateAndGenerateFromTheOutputFolder(@TempDir Path tmp) throws IOException {
        Path text = Files.writeString(tmp.resolve("story.txt"), TEXT.repeat(8));
        Path out = tmp.resolve("run");
        String[] train = {"gpt2", "train", "--text", text.toString(), "--out", out.toString(), "--layers", "1", "--heads", "1",
                "--embd", "8", "--context", "8", "--batch", "2", "--steps", "3", "--warmup", "1", "--eval-batches", "1",
                "--seed", "5"};
        Run t = run(train);
        assertEquals(Main.OK, t.code(), t.err());
        assertTrue(t.out().contains("done: step 3, train loss"), t.out());
        for (String f : new String[]{Gpt2Trainer.CHECKPOINT_FILE, Gpt2Trainer.LOG_FILE, Gpt2Trainer.PLOT_FILE, "config.json",
                "model.safetensors"}) {
            assertTrue(Files.isRegularFile(out.resolve(f)), f);
        }
        assertTrue(t.out().contains("tok/s"), "progress line: " + t.out());
        // a second run into the same folder must not overwrite it, and a resume must use the same settings
        assertFailsCleanly(run(train), Main.FAILURE, "already holds a training checkpoint");
        String[] otherBatch = train.clone();
        otherBatch[15] = "3"; // the value of --batch
        otherBatch = java.util.Arrays.copyOf(otherBatch, otherBatch.length + 1);
        otherBatch[otherBatch.length - 1] = "--resume";
        assertFailsCleanly(run(otherBatch), Main.FAILURE, "batch_size 2 in the checkpoint, 3 now");

        Path evalText = Files.writeString(tmp.resolve("eval.txt"), TEXT);
        Run e = run("gpt2", "eval", "--model", out.toString(), "--text", evalText.toString(), "--stride", "4");
        assertEquals(Main.OK, e.code(), e.err());
        Matcher m = Pattern.compile("mean cross-entropy (\\d+\\.\\d{4}) nats/token, perplexity (\\d+\\.\\d{2}), tokens (\\d+)")
                .matcher(e.out());
        assertTrue(m.find(), e.out());
        assertEquals(Gpt2Tokenizer.gpt2().encode(TEXT).length - 1, Integer.parseInt(m.group(3)));
        double ce = Double.parseDouble(m.group(1));
        // 3 steps from GPT-2's init leave the model close to uniform over 50257 tokens (ln = 10.82)
        assertTrue(ce > 9 && ce < 12, e.out());
        assertEquals(Math.exp(ce), Double.parseDouble(m.group(2)), Math.exp(ce) * 1e-3);

        String[] generate = {"gpt2", "generate", "--model", out.toString(), "--prompt", "The cat", "--max-tokens", "5", "--seed", "3"};
        Run g = run(generate);
        assertEquals(Main.OK, g.code(), g.err());
        assertTrue(g.out().startsWith("The cat"), g.out());
        assertEquals(g.out(), run(generate).out(), "same seed, same text");
    }

    @Test
    void badInputGivesAClearErrorWithoutAStackTrace(@TempDir Path tmp) throws IOException {
        Path out = tmp.resolve("run");
        assertFailsCleanly(run("gpt2", "train", "--text", tmp.resolve("missing.txt").toString(), "--out", out.toString()),
                Main.FAILURE, "missing.txt: no such file");
        Path empty = Files.writeString(tmp.resolve("empty.txt"), " \n");
        assertFailsCleanly(run("gpt2", "train", "--text", empty.toString(), "--out", out.toString()), Main.FAILURE,
                "the text is empty");
        Path latin1 = Files.write(tmp.resolve("latin1.txt"), new byte[]{'c', 'a', 'f', (byte) 0xE9});
        assertFailsCleanly(run("gpt2", "eval", "--model", tmp.toString(), "--text", latin1.toString()), Main.FAILURE,
                "not valid UTF-8");
        assertFailsCleanly(run("gpt2", "train", "--text", latin1.toString(), "--out", out.toString()), Main.FAILURE,
                "not valid UTF-8");
        assertFailsCleanly(run("gpt2", "train", "--text", empty.toString()), Main.USAGE, "missing required option --out");
        assertFailsCleanly(run("gpt2", "train", "--text", empty.toString(), "--out", out.toString(), "--lr", "fast"),
                Main.USAGE, "--lr expects a number, got 'fast'");

        Path model = tinyVocabModel(tmp.resolve("tiny"));
        String longPrompt = "one two three four five six seven eight nine ten";
        assertFailsCleanly(run("gpt2", "generate", "--model", model.toString(), "--prompt", longPrompt), Main.FAILURE,
                "more than the context length n_positions = 8");
        // " elephant" is token 20950, far outside this model's 300 ids
        assertFailsCleanly(run("gpt2", "generate", "--model", model.toString(), "--prompt", "an elephant"), Main.FAILURE,
                "outside the vocabulary [0, 300)");
        Path words = Files.writeString(tmp.resolve("words.txt"), "an elephant");
        assertFailsCleanly(run("gpt2", "eval", "--model", model.toString(), "--text", words.toString()), Main.FAILURE,
                "is outside the model's vocabulary [0, 300)");
        assertFailsCleanly(run("gpt2", "eval", "--model", tmp.resolve("nothing").toString(), "--text", words.toString()),
                Main.FAILURE, "nothing: no such folder");
        assertFailsCleanly(run("gpt2", "eval", "--model", tmp.toString(), "--text", words.toString()), Main.FAILURE,
                "not a model folder");
        assertFailsCleanly(run("gpt2", "eval", "--model", model.toString(), "--text", words.toString(), "--stride", "9"),
                Main.USAGE, "--stride must be in [1, 8]");

        Run verbose = run("gpt2", "eval", "--model", model.toString(), "--text", words.toString(), "--verbose");
        assertEquals(Main.FAILURE, verbose.code());
        assertTrue(verbose.err().contains("\tat io.github"), "--verbose shows the stack trace: " + verbose.err());
    }

    @Test
    void deviceOptionSelectsABackendOrFailsClearly(@TempDir Path tmp) throws IOException {
        Path model = tinyVocabModel(tmp.resolve("tiny"));
        for (String device : new String[]{"cpu", "reference"}) {
            Run r = run("gpt2", "generate", "--model", model.toString(), "--prompt", "a", "--max-tokens", "2", "--device", device);
            assertEquals(Main.OK, r.code(), r.err());
        }
        assertFailsCleanly(run("gpt2", "generate", "--model", model.toString(), "--prompt", "a", "--device", "tpu"), Main.USAGE,
                "unknown --device 'tpu' (known: " + Devices.KNOWN + ")");
        // opencl runs where an OpenCL device works (PoCL in CI) and otherwise fails with exit code 3 and the reason
        Run ocl = run("gpt2", "generate", "--model", model.toString(), "--prompt", "a", "--max-tokens", "2", "--device", "opencl");
        assertTrue(ocl.code() == Main.OK || ocl.code() == Main.ENVIRONMENT, ocl.err());
        if (ocl.code() == Main.ENVIRONMENT) assertTrue(ocl.err().contains("opencl"), ocl.err());
    }
}
