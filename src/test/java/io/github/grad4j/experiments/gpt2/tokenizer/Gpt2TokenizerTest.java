package io.github.grad4j.experiments.gpt2.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** Special-token handling, decoding errors and the byte-level alphabet of the bundled GPT-2 tokenizer. */
class Gpt2TokenizerTest {

    private static final Gpt2Tokenizer TOKENIZER = Gpt2Tokenizer.gpt2();
    private static final int EOT = 50256;

    @Test
    void gpt2ReturnsOneSharedInstance() {
        assertSame(TOKENIZER, Gpt2Tokenizer.gpt2());
    }

    @Test
    void encodeTreatsEndOfTextMarkerAsOrdinaryText() {
        String text = "one<|endoftext|>two";
        int[] ids = TOKENIZER.encode(text);
        assertTrue(IntStream.of(ids).noneMatch(id -> id == EOT), Arrays.toString(ids));
        assertArrayEquals(R50kOracle.encodeOrdinary(text), ids);
    }

    @Test
    void encodeWithSpecialRecognisesEndOfTextAtStartMiddleAndEnd() {
        assertArrayEquals(concat(new int[] {EOT}, R50kOracle.encodeOrdinary("Hello world")),
                TOKENIZER.encodeWithSpecial("<|endoftext|>Hello world"));
        assertArrayEquals(concat(R50kOracle.encodeOrdinary("first doc."), new int[] {EOT},
                        R50kOracle.encodeOrdinary(" second doc")),
                TOKENIZER.encodeWithSpecial("first doc.<|endoftext|> second doc"));
        assertArrayEquals(concat(R50kOracle.encodeOrdinary("The end.\n"), new int[] {EOT}),
                TOKENIZER.encodeWithSpecial("The end.\n<|endoftext|>"));
    }

    @Test
    void encodeWithSpecialHandlesAdjacentAndLoneMarkers() {
        assertArrayEquals(new int[] {EOT}, TOKENIZER.encodeWithSpecial("<|endoftext|>"));
        assertArrayEquals(new int[] {EOT, EOT}, TOKENIZER.encodeWithSpecial("<|endoftext|><|endoftext|>"));
        // A marker split by another character is ordinary text.
        String broken = "<|endof text|>";
        assertArrayEquals(R50kOracle.encodeOrdinary(broken), TOKENIZER.encodeWithSpecial(broken));
    }

    @Test
    void endOfTextDecodesToItsMarkerText() {
        assertEquals("a<|endoftext|>b", TOKENIZER.decode(TOKENIZER.encodeWithSpecial("a<|endoftext|>b")));
    }

    @Test
    void emptyInputs() {
        assertArrayEquals(new int[0], TOKENIZER.encode(""));
        assertArrayEquals(new int[0], TOKENIZER.encodeWithSpecial(""));
        assertEquals("", TOKENIZER.decode(new int[0]));
    }

    @Test
    void decodeOfUnknownIdNamesTheIdAndVocabularySize() {
        for (int badId : new int[] {-1, 50257, Integer.MAX_VALUE}) {
            IllegalArgumentException error = assertThrows(IllegalArgumentException.class,
                    () -> TOKENIZER.decode(new int[] {15496, badId}));
            assertTrue(error.getMessage().contains("token id " + badId), error.getMessage());
            assertTrue(error.getMessage().contains("50257"), error.getMessage());
            assertThrows(IllegalArgumentException.class, () -> TOKENIZER.decodeBytes(new int[] {badId}));
        }
    }

    @Test
    void decodeOfTokensSplittingACharacterUsesReplacementCharacter() {
        // "\ud83d\ude00" is 4 UTF-8 bytes; GPT-2 spells it with several tokens, none of them a whole character.
        int[] ids = TOKENIZER.encode("\ud83d\ude00");
        assertTrue(ids.length > 1, Arrays.toString(ids));
        byte[] firstTokenBytes = TOKENIZER.decodeBytes(new int[] {ids[0]});
        assertArrayEquals(Arrays.copyOf("\ud83d\ude00".getBytes(java.nio.charset.StandardCharsets.UTF_8),
                firstTokenBytes.length), firstTokenBytes);
        assertEquals("\uFFFD", TOKENIZER.decode(new int[] {ids[0]}));
    }

    @Test
    void unpairedSurrogatesAreEncodedAsReplacementCharacterLikeTiktoken() {
        assertArrayEquals(TOKENIZER.encode("a\uFFFDb \uFFFD"), TOKENIZER.encode("a\uD800b \uDC00"));
        assertEquals("x\uFFFD", TOKENIZER.decode(TOKENIZER.encode("x\uDBFF")));
    }

    @Test
    void byteAlphabetFollowsGpt2Rule() {
        // Printable bytes stand for themselves ...
        for (int b : new int[] {'!', 'A', 'z', '~', 0xA1, 0xAC, 0xAE, 0xFF}) {
            assertEquals((char) b, ByteLevelAlphabet.charForByte(b), "byte " + b);
        }
        // ... the other 68 get U+0100 + n in byte order: 0..32, then 127..160, then 173.
        assertEquals('\u0100', ByteLevelAlphabet.charForByte(0));
        assertEquals('\u010A', ByteLevelAlphabet.charForByte('\n')); // "Ċ"
        assertEquals('\u0120', ByteLevelAlphabet.charForByte(' '));  // "Ġ"
        assertEquals('\u0121', ByteLevelAlphabet.charForByte(0x7F));
        assertEquals('\u0142', ByteLevelAlphabet.charForByte(0xA0));
        assertEquals('\u0143', ByteLevelAlphabet.charForByte(0xAD));
        long shifted = IntStream.range(0, 256).filter(b -> ByteLevelAlphabet.charForByte(b) >= 0x100).count();
        assertEquals(68, shifted);
        for (int b = 0; b < 256; b++) {
            assertEquals(b, ByteLevelAlphabet.byteForChar(ByteLevelAlphabet.charForByte(b)));
        }
        assertEquals(-1, ByteLevelAlphabet.byteForChar(' '));
        assertEquals(-1, ByteLevelAlphabet.byteForChar('\u0144'));
    }

    private static int[] concat(int[]... parts) {
        return Arrays.stream(parts).flatMapToInt(IntStream::of).toArray();
    }
}
