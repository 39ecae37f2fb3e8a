package io.github.grad4j.experiments.gpt2.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;

/**
 * Properties of {@link Gpt2Tokenizer} over generated Unicode text: lossless round trip, and the
 * same ids as jtokkit's independent R50K_BASE implementation.
 */
class Gpt2TokenizerProperties {

    private static final Gpt2Tokenizer TOKENIZER = Gpt2Tokenizer.gpt2();

    @Property(tries = 1000)
    void decodeOfEncodeIsIdentity(@ForAll("unicodeText") String text) {
        assertEquals(text, TOKENIZER.decode(TOKENIZER.encode(text)));
    }

    @Property(tries = 300)
    void decodeBytesOfEncodeIsTheUtf8Encoding(@ForAll("unicodeText") String text) {
        assertArrayEquals(text.getBytes(StandardCharsets.UTF_8), TOKENIZER.decodeBytes(TOKENIZER.encode(text)));
    }

    @Property(tries = 1000)
    void idsMatchJtokkit(@ForAll("unicodeText") String text) {
        assertArrayEquals(R50kOracle.encodeOrdinary(text), TOKENIZER.encode(text));
    }

    @Property(tries = 300)
    void encodeWithSpecialRoundTrips(@ForAll("unicodeText") String text) {
        assertEquals(text, TOKENIZER.decode(TOKENIZER.encodeWithSpecial(text)));
    }

    /**
     * Strings of valid Unicode scalar values (surrogate pairs included, lone surrogates never),
     * mixing code points from many ranges with fragments that hit the pre-tokenizer's edge cases
     * (contractions, whitespace before letters, the special-token text, emoji sequences).
     */
    @Provide
    Arbitrary<String> unicodeText() {
        Arbitrary<String> pieces = Arbitraries.frequencyOf(
                Tuple.of(6, codePoints().map(Character::toString)),
                Tuple.of(2, Arbitraries.of(FRAGMENTS)));
        return pieces.list().ofMaxSize(60).map(list -> String.join("", list));
    }

    private static final List<String> FRAGMENTS = List.of(
            "'s", "'t", "'re", "'ve", "'m", "'ll", "'d", "'S", "'LL", "\u2019s", "'", "''",
            " ", "  ", "   ", "\t", "\n", "\r\n", "\n\n", " \n", "\u00A0", "\u3000",
            "the", " the", "Hello", " world", "123", " 4567", "3.14",
            "<|endoftext|>", "<|", "|>",
            "\ud83d\udc4d\ud83c\udffd", "\ud83d\udc68\u200d\ud83d\udc69\u200d\ud83d\udc67",
            "\ud83c\uddfa\ud83c\uddf8", "e\u0301", "\u00e9", "\u4e2d\u6587", "\u3053\u3093\u306b\u3061\u306f");

    private static Arbitrary<Integer> codePoints() {
        return Arbitraries.frequencyOf(
                Tuple.of(12, Arbitraries.integers().between(0x20, 0x7E)),           // printable ASCII
                Tuple.of(3, Arbitraries.of(WHITESPACE_AND_SEPARATORS)),
                Tuple.of(1, Arbitraries.integers().between(0x00, 0x1F)),            // C0 controls
                Tuple.of(2, Arbitraries.integers().between(0x80, 0x24F)),           // Latin-1, Latin Extended
                Tuple.of(2, Arbitraries.integers().between(0x300, 0x36F)),          // combining marks
                Tuple.of(2, Arbitraries.integers().between(0x370, 0x4FF)),          // Greek, Cyrillic
                Tuple.of(1, Arbitraries.integers().between(0x590, 0x6FF)),          // Hebrew, Arabic
                Tuple.of(1, Arbitraries.integers().between(0x900, 0x97F)),          // Devanagari
                Tuple.of(1, Arbitraries.integers().between(0xE00, 0xE7F)),          // Thai
                Tuple.of(2, Arbitraries.integers().between(0x3040, 0x30FF)),        // Hiragana, Katakana
                Tuple.of(2, Arbitraries.integers().between(0x4E00, 0x9FFF)),        // CJK ideographs
                Tuple.of(1, Arbitraries.integers().between(0xAC00, 0xD7A3)),        // Hangul
                Tuple.of(2, Arbitraries.of(OTHER_DIGITS)),
                Tuple.of(2, Arbitraries.integers().between(0x1F300, 0x1FAFF)),      // emoji
                Tuple.of(1, Arbitraries.integers().between(0x1F3FB, 0x1F3FF)),      // skin tones
                Tuple.of(1, Arbitraries.of(0x200D, 0xFE0F, 0x20E3)),                // ZWJ, VS16, keycap
                Tuple.of(2, Arbitraries.integers().between(0, 0xFFFF)               // anything in the BMP
                        .filter(cp -> cp < Character.MIN_SURROGATE || cp > Character.MAX_SURROGATE)),
                Tuple.of(1, Arbitraries.integers().between(0x10000, Character.MAX_CODE_POINT)));
    }

    private static final Integer[] WHITESPACE_AND_SEPARATORS = {
            0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x20, 0x20, 0x20, 0x1C, 0x1D, 0x1E, 0x1F, 0x85, 0xA0,
            0x1680, 0x2000, 0x2001, 0x2002, 0x2003, 0x2007, 0x200A, 0x200B, 0x2028, 0x2029, 0x202F,
            0x205F, 0x3000, 0xFEFF};

    private static final Integer[] OTHER_DIGITS = {
            0x0660, 0x0669, 0x06F5, 0x0966, 0x096F, 0xFF10, 0xFF19, 0x00B2, 0x00B9, 0x00BC, 0x2070,
            0x2168, 0x3007, 0x1D7CE, 0x1D7FF};
}
