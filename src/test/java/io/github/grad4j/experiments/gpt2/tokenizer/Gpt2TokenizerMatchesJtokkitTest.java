package io.github.grad4j.experiments.gpt2.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Token ids from {@link Gpt2Tokenizer#gpt2()} must equal jtokkit's {@code R50K_BASE} ids, on
 * hand-picked text that exercises every branch of GPT-2's pre-tokenizer regex and on real text
 * from the project's shared data folder.
 */
class Gpt2TokenizerMatchesJtokkitTest {

    private static final Gpt2Tokenizer TOKENIZER = Gpt2Tokenizer.gpt2();

    static Stream<String> corpus() {
        return Stream.of(
                // English prose and punctuation
                "Hello, world! This is a test of GPT-2's tokenizer.",
                "The quick brown fox jumps over the lazy dog. \"Quoted,\" she said -- and left...",
                "It was the best of times, it was the worst of times; it was the age of wisdom?!",
                "e-mail: someone@example.com, URL: https://example.org/path?q=1&r=two#frag",
                // contractions, lower and upper case, straight and curly apostrophes
                "it's isn't they're we've I'm you'll he'd",
                "IT'S ISN'T THEY'RE WE'VE I'M YOU'LL HE'D",
                "It'S iSn'T They'Re",
                "it\u2019s they\u2019re I\u2019m don\u2019t \u2018quoted\u2019",
                "'s 't 're 've 'm 'll 'd '",
                "''s '''ll x'sy 's's",
                "rock'n'roll o'clock y'all ma'am",
                // numbers
                "0 1 12 123 1234 12345 1234567890 3.14159 -42 +7 1e10 0x1F 1,000,000 50%",
                "Call 555-0123 on 2024-02-29 at 23:59:59.999",
                "\u0661\u0662\u0663 \uFF11\uFF12\uFF13 \u00B2\u00B3 \u2167 \u00BD",
                // whitespace runs
                "a  b   c    d     e",
                "trailing spaces   ",
                "   leading spaces",
                "tabs\t\tand\t\t\ttabs\t",
                "lines\n\nwith\n\n\nblank lines\n",
                "mixed \t \n \r\n  \t\t\n   end",
                "\n\n\n\n",
                "                                                                  ",
                " ",
                "",
                "x\u00A0\u00A0y\u3000z\u2003w \u2028 \u2029 \u0085 \u000B \f",
                "\u001C\u001D\u001E\u001F separators \u001F",
                // source code with indentation
                "public final class Main {\n    public static void main(String[] args) {\n"
                        + "        System.out.println(\"Hello\");\n        int x = a[i] + b.c(d, e) >> 2;\n    }\n}\n",
                "def f(x):\n    if x > 0:\n        return x ** 2  # square\n\telse:\n\t\treturn None\n",
                "for (int i = 0; i < n; i++) {\n\t// comment\n\tsum += i;\n}",
                "    \n    \n        indented_after_blank_lines = {'key': [1, 2, 3]}\n",
                "<html><body class=\"x\">&amp; &lt;tag&gt;</body></html>",
                "x<|endoftext|>y <|endoftext|> <|endoftext",
                // non-Latin scripts
                "\u4eca\u5929\u5929\u6c14\u5f88\u597d\uff0c\u6211\u4eec\u53bb\u516c\u56ed\u5427\u3002",
                "\u3053\u3093\u306b\u3061\u306f\u3001\u4e16\u754c\uff01\u30ab\u30bf\u30ab\u30ca\u3068\u6f22\u5b57",
                "\u0645\u0631\u062d\u0628\u0627 \u0628\u0627\u0644\u0639\u0627\u0644\u0645",
                "\u0928\u092e\u0938\u094d\u0924\u0947 \u0926\u0941\u0928\u093f\u092f\u093e",
                "\u041f\u0440\u0438\u0432\u0435\u0442, \u043c\u0438\u0440! \u0401\u0436",
                "\u0393\u03b5\u03b9\u03ac \u03c3\u03bf\u03c5 \u039a\u03cc\u03c3\u03bc\u03b5",
                "\ud55c\uad6d\uc5b4 \ud14d\uc2a4\ud2b8 \u0e2a\u0e27\u0e31\u0e2a\u0e14\u0e35 \u05e9\u05dc\u05d5\u05dd",
                // emoji: single, skin tones, ZWJ sequences, flags, keycaps
                "I \u2764\ufe0f tokenizers \ud83d\ude00\ud83d\ude02",
                "\ud83d\udc4d\ud83c\udffd \ud83d\udc4b\ud83c\udfff",
                "\ud83d\udc68\u200d\ud83d\udc69\u200d\ud83d\udc67\u200d\ud83d\udc66 family",
                "\ud83c\uddfa\ud83c\uddf8\ud83c\uddef\ud83c\uddf5 1\ufe0f\u20e3",
                "\ud83e\uddd1\ud83c\udffe\u200d\ud83d\udcbb coding",
                // combining marks: decomposed vs precomposed
                "cafe\u0301 caf\u00e9 n\u0303 Z\u0351\u036b\u0343\u036a\u0302\u036b\u033d\u034f\u0334",
                "a\u0300\u0301\u0302\u0303 \u0301leading-combining",
                // rare: private use, supplementary CJK, math letters
                "\ue000\uf8ff \ud840\udc0b \ud835\udc00\ud835\udc01",
                "\u0000\u0001\u007f control\u0007chars");
    }

    @ParameterizedTest
    @MethodSource("corpus")
    void idsMatchJtokkit(String text) {
        assertArrayEquals(R50kOracle.encodeOrdinary(text), TOKENIZER.encode(text));
    }

    @ParameterizedTest
    @MethodSource("corpus")
    void decodeRestoresText(String text) {
        assertEquals(text, TOKENIZER.decode(TOKENIZER.encode(text)));
    }

    @Test
    void longWhitespaceRunsMatchJtokkit() {
        String[] units = {" ", "\t", "\n", "\r\n", " \t", "\n "};
        for (String unit : units) {
            for (int repeat : new int[] {1, 2, 3, 7, 16, 31, 64, 300}) {
                for (String around : new String[] {"", "x", " y"}) {
                    String text = around + unit.repeat(repeat) + around;
                    assertArrayEquals(R50kOracle.encodeOrdinary(text), TOKENIZER.encode(text),
                            () -> "unit " + escape(unit) + " x" + repeat + " around " + escape(around));
                }
            }
        }
    }

    @Test
    void everyTokenDecodesToTheSameBytesAsJtokkit() {
        for (int id = 0; id < TOKENIZER.vocabSize(); id++) {
            assertArrayEquals(R50kOracle.decodeBytes(id), TOKENIZER.decodeBytes(new int[] {id}), "token id " + id);
        }
    }

    @Test
    void vocabularySizeAndEndOfTextMatchGpt2() {
        // GPT-2 has 50257 tokens: 256 bytes + 50000 merges + <|endoftext|>, which is the last id.
        assertEquals(50257, TOKENIZER.vocabSize());
        assertEquals(50256, TOKENIZER.endOfTextId());
        assertArrayEquals(Gpt2Tokenizer.END_OF_TEXT.getBytes(StandardCharsets.US_ASCII),
                R50kOracle.decodeBytes(TOKENIZER.endOfTextId()));
    }

    private static final Path SHARED_TEXT_FOLDER = Path.of("..", "shared", "data", "text");

    /** Whole files plus random slices (slices start mid-word and mid-line, unlike the files). */
    @TestFactory
    Stream<DynamicTest> sharedTextFilesMatchJtokkit() throws IOException {
        Assumptions.assumeTrue(Files.isDirectory(SHARED_TEXT_FOLDER),
                "skipped: shared text folder " + SHARED_TEXT_FOLDER.toAbsolutePath().normalize() + " is absent");
        List<Path> files = new ArrayList<>();
        try (Stream<Path> listing = Files.list(SHARED_TEXT_FOLDER)) {
            listing.filter(p -> p.toString().endsWith(".txt")).sorted().forEach(files::add);
        }
        Assumptions.assumeFalse(files.isEmpty(), "skipped: no *.txt files in " + SHARED_TEXT_FOLDER);
        List<DynamicTest> tests = new ArrayList<>();
        Random random = new Random(20240229);
        for (Path file : files) {
            String text = Files.readString(file, StandardCharsets.UTF_8);
            String name = file.getFileName().toString();
            tests.add(dynamicTest(name + " (whole file, " + text.length() + " chars)", () -> {
                int[] ids = TOKENIZER.encode(text);
                assertArrayEquals(R50kOracle.encodeOrdinary(text), ids);
                assertEquals(text, TOKENIZER.decode(ids));
            }));
            for (int slice = 0; slice < 25 && !text.isEmpty(); slice++) {
                int start = codePointBoundary(text, random.nextInt(text.length()));
                int end = codePointBoundary(text, Math.min(text.length(), start + 1 + random.nextInt(3000)));
                String part = text.substring(start, end);
                tests.add(dynamicTest(name + " [" + start + ", " + end + ")",
                        () -> assertArrayEquals(R50kOracle.encodeOrdinary(part), TOKENIZER.encode(part))));
            }
        }
        return tests.stream();
    }

    /** Moves an index off the middle of a surrogate pair so that slices stay valid Unicode. */
    private static int codePointBoundary(String text, int index) {
        if (index > 0 && index < text.length() && Character.isLowSurrogate(text.charAt(index))
                && Character.isHighSurrogate(text.charAt(index - 1))) {
            return index + 1;
        }
        return index;
    }

    private static String escape(String s) {
        return s.replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r");
    }
}
