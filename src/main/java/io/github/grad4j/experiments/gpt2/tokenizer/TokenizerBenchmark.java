package io.github.grad4j.experiments.gpt2.tokenizer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.Random;

/**
 * Measures {@link Gpt2Tokenizer#encode} throughput on a text file or on generated English-like
 * text. Reports the median of several timed runs after warm-up runs, so the figure is the
 * steady state: JIT-compiled code and a word cache already holding the text's vocabulary.
 * MB here means 10^6 bytes of UTF-8 input.
 */
public final class TokenizerBenchmark {

    private static final int WARM_UP_RUNS = 3;
    private static final int TIMED_RUNS = 5;
    private static final int GENERATED_TEXT_BYTES = 1 << 20;

    private TokenizerBenchmark() {
    }

    /** Usage: {@code TokenizerBenchmark [text-file]}; prints the line {@link #run} returns. */
    public static void main(String[] args) {
        System.out.println(run(args.length > 0 ? Path.of(args[0]) : null));
    }

    /**
     * Tokenizes the text with the bundled GPT-2 vocabulary {@value #WARM_UP_RUNS} times to warm
     * up, then {@value #TIMED_RUNS} times timed.
     *
     * @param textFileOrNull a UTF-8 text file, or null for about 1 MB of generated English-like text
     * @return e.g. {@code tokenizer: 1.05 MB in 0.21 s = 5.0 MB/s (median of 5 runs), 262144 tokens}
     * @throws UncheckedIOException if the file cannot be read
     */
    public static String run(Path textFileOrNull) {
        String text;
        try {
            text = textFileOrNull == null ? generateEnglishLikeText(GENERATED_TEXT_BYTES, 42)
                    : Files.readString(textFileOrNull, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + textFileOrNull, e);
        }
        Gpt2Tokenizer tokenizer = Gpt2Tokenizer.gpt2();
        int tokenCount = 0;
        for (int i = 0; i < WARM_UP_RUNS; i++) {
            tokenCount = tokenizer.encode(text).length;
        }
        long[] nanos = new long[TIMED_RUNS];
        for (int i = 0; i < TIMED_RUNS; i++) {
            long start = System.nanoTime();
            tokenCount = tokenizer.encode(text).length;
            nanos[i] = System.nanoTime() - start;
        }
        Arrays.sort(nanos);
        double seconds = nanos[TIMED_RUNS / 2] / 1e9;
        double megabytes = text.getBytes(StandardCharsets.UTF_8).length / 1e6;
        return String.format(Locale.ROOT, "tokenizer: %.2f MB in %.3f s = %.1f MB/s (median of %d runs), %d tokens",
                megabytes, seconds, megabytes / seconds, TIMED_RUNS, tokenCount);
    }

    private static final String[] COMMON_WORDS = (
            "the of and to in a is that for it as was with be by on not he I this are or his from at which "
            + "but have an they you were her she there been one all we their has would when if so no what "
            + "will more can said who them some could him into its then two time only new like other about "
            + "over than these may people first after very way years must through where back even should "
            + "because much between each world being under down those while government however without "
            + "tokenizer gradient tensor network training learning model data result experiment value "
            + "number small large different important general possible example interesting remarkable "
            + "don't it's we're they've I'm you'll she'd London Paris September Monday").split(" ");

    /**
     * Deterministic prose-like text: sentences of common words (with contractions, capitals,
     * numbers and punctuation), grouped into paragraphs, until at least {@code targetBytes}.
     */
    static String generateEnglishLikeText(int targetBytes, long seed) {
        Random random = new Random(seed);
        StringBuilder text = new StringBuilder(targetBytes + 256);
        while (text.length() < targetBytes) {
            int sentences = 2 + random.nextInt(6);
            for (int s = 0; s < sentences; s++) {
                int words = 5 + random.nextInt(18);
                for (int w = 0; w < words; w++) {
                    String word = COMMON_WORDS[random.nextInt(COMMON_WORDS.length)];
                    if (w == 0) {
                        word = Character.toUpperCase(word.charAt(0)) + word.substring(1);
                    } else {
                        text.append(' ');
                    }
                    if (random.nextInt(40) == 0) {
                        word = Integer.toString(random.nextInt(random.nextBoolean() ? 100 : 100000));
                    }
                    text.append(word);
                    if (w < words - 1 && random.nextInt(12) == 0) {
                        text.append(random.nextBoolean() ? "," : ";");
                    }
                }
                text.append(random.nextInt(8) == 0 ? "?" : ".");
                text.append(s < sentences - 1 ? " " : "");
            }
            text.append("\n\n");
        }
        return text.toString();
    }
}
