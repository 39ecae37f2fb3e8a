package io.github.grad4j.cli;

import io.github.grad4j.experiments.gpt2.Gpt2Checkpoint;
import io.github.grad4j.experiments.gpt2.Gpt2Config;
import io.github.grad4j.experiments.gpt2.Gpt2Model;
import io.github.grad4j.experiments.gpt2.TokenDataset;
import io.github.grad4j.experiments.gpt2.tokenizer.Gpt2Tokenizer;
import io.github.grad4j.experiments.quant.gpt2.CompactVocab;
import io.github.grad4j.experiments.quant.gpt2.SmallGpt2;
import io.github.grad4j.tensor.Rng;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** What the two GPT-2 quantization commands share: tokenized texts and the base model (loaded or pre-trained). */
final class QuantGpt2Setup {
    private QuantGpt2Setup() {
    }

    /** The options for pre-training a small model when --model is not given. */
    static Options declarePretraining(Options o, String steps) {
        return o.option("--model", "DIR", "trained GPT-2 folder (config.json, model.safetensors, optional compact_vocab.txt); "
                        + "without it a small GPT-2 is pre-trained first and saved to OUT/base-model", null)
                .option("--pretrain-steps", "N", "pre-training steps of the small model", steps)
                .option("--pretrain-lr", "LR", "pre-training peak learning rate (AdamW, warmup + cosine)", "3e-3")
                .option("--vocab", "K", "compact vocabulary of the small model: the K most frequent GPT-2 tokens + 1 unknown", "2048")
                .option("--layers", "N", "blocks of the small model", "2")
                .option("--width", "C", "residual width of the small model", "64")
                .option("--heads", "H", "attention heads of the small model", "4")
                .option("--batch", "B", "sequences per step", "8")
                .option("--context", "T", "tokens per sequence", "32");
    }

    static int[] tokens(Path file, Path cache) throws IOException {
        if (!Files.exists(file)) throw new java.nio.file.NoSuchFileException(file + ": no such file");
        return TokenDataset.load(file, Gpt2Tokenizer.gpt2(), cache).tokens();
    }

    /** A base model and its vocabulary (null: the full GPT-2 vocabulary). */
    record Base(Gpt2Model model, CompactVocab vocab) {
        int[] map(int[] ids) {
            return vocab == null ? ids : vocab.map(ids);
        }
    }

    /**
     * Loads --model, or pre-trains a small GPT-2 on {@code pretrainText} with a compact vocabulary of
     * {@code vocabCorpora} and saves it under {@code out/base-model} (reused by a later run with the
     * same out folder if it exists there).
     */
    static Base base(Options o, List<int[]> vocabCorpora, int[] pretrainText, Path out, long seed, PrintStream log)
            throws IOException {
        String modelDir = o.stringOrNull("--model");
        Path saved = out.resolve("base-model");
        if (modelDir == null && Files.isRegularFile(saved.resolve(Gpt2Config.FILE_NAME))) {
            log.println("reusing the pre-trained model in " + saved);
            modelDir = saved.toString();
        }
        if (modelDir != null) {
            Path dir = Path.of(modelDir);
            Gpt2Model m = Gpt2Checkpoint.load(dir);
            m.eval();
            CompactVocab v = CompactVocab.loadIfPresent(dir);
            int expected = v == null ? 50257 : v.size();
            if (m.config().vocabSize() != expected) {
                throw new IllegalArgumentException(dir + ": the model has vocab_size " + m.config().vocabSize() + " but "
                        + (v == null ? "no " + CompactVocab.FILE_NAME + " (so the GPT-2 vocabulary of 50257 is assumed)"
                        : CompactVocab.FILE_NAME + " gives " + v.size()));
            }
            return new Base(m, v);
        }
        int k = o.integer("--vocab");
        if (k < 2) throw new UsageException("--vocab must be at least 2, got " + k);
        CompactVocab vocab = CompactVocab.mostFrequent(vocabCorpora, k);
        Gpt2Config config = new Gpt2Config(o.integer("--layers"), o.integer("--heads"), o.integer("--width"),
                o.integer("--context"), vocab.size());
        Gpt2Model model = new Gpt2Model(config, new Rng(seed));
        int steps = o.integer("--pretrain-steps");
        log.printf("pre-training a small GPT-2 (%d layers, width %d, %d heads, vocab %d, context %d) for %d steps%n",
                config.nLayer(), config.nEmbd(), config.nHead(), config.vocabSize(), config.nPositions(), steps);
        long start = System.nanoTime();
        SmallGpt2.pretrain(model, new TokenDataset(vocab.map(pretrainText), "pre-training text"),
                new SmallGpt2.Recipe(steps, o.integer("--batch"), o.integer("--context"), o.real("--pretrain-lr")),
                new Rng(seed + 1), log);
        log.printf("pre-training took %.0f s; saved to %s%n", (System.nanoTime() - start) / 1e9, saved);
        SmallGpt2.save(model, vocab, saved);
        return new Base(model, vocab);
    }

    static List<Double> doubles(String option, String text) {
        try {
            return java.util.Arrays.stream(text.split(",")).map(String::trim).filter(s -> !s.isEmpty()).map(Double::parseDouble).toList();
        } catch (NumberFormatException e) {
            throw new UsageException(option + " expects comma-separated numbers, got '" + text + "'");
        }
    }

    /** Runs a parse of an option's value, turning its IllegalArgumentException into a usage error (exit code 2). */
    static <T> T parsed(String option, java.util.function.Supplier<T> parse) {
        try {
            return parse.get();
        } catch (IllegalArgumentException e) {
            throw new UsageException(option + ": " + e.getMessage());
        }
    }

    static Path defaultTextDir() {
        return Path.of(System.getProperty("grad4j.shared", "../shared"), "data", "text");
    }
}
