package io.github.grad4j.experiments.gpt2.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link Gpt2Tokenizer#load} on a tiny hand-made vocabulary (so expected ids can be worked out
 * by hand from the merge rules) and on malformed files, whose errors must name the file.
 */
class Gpt2TokenizerLoadTest {

    @TempDir
    Path folder;

    // Tiny vocabulary: ids 0..255 are the single bytes in byte order, then these merged tokens.
    private static final int EL = 256;
    private static final int LL = 257;
    private static final int HEL = 258;
    private static final int END_OF_TEXT = 259;

    private static Map<String, Integer> tinyVocabulary() {
        Map<String, Integer> ids = new LinkedHashMap<>();
        for (int b = 0; b < 256; b++) {
            ids.put(String.valueOf(ByteLevelAlphabet.charForByte(b)), b);
        }
        ids.put("el", EL);
        ids.put("ll", LL);
        ids.put("hel", HEL);
        ids.put("<|endoftext|>", END_OF_TEXT);
        return ids;
    }

    /** Writes JSON the way GPT-2's file does: non-ASCII characters as backslash-u escapes. */
    private static String toJson(Map<String, Integer> ids) {
        StringBuilder json = new StringBuilder("{");
        for (Map.Entry<String, Integer> entry : ids.entrySet()) {
            if (json.length() > 1) {
                json.append(", ");
            }
            json.append('"');
            for (char c : entry.getKey().toCharArray()) {
                if (c == '"' || c == '\\') {
                    json.append('\\').append(c);
                } else if (c < 0x20 || c > 0x7E) {
                    json.append(String.format("\\u%04x", (int) c));
                } else {
                    json.append(c);
                }
            }
            json.append("\": ").append(entry.getValue());
        }
        return json.append('}').toString();
    }

    private Path write(String name, String content) throws IOException {
        return Files.writeString(folder.resolve(name), content, StandardCharsets.UTF_8);
    }

    private Path validEncoder() throws IOException {
        return write("encoder.json", toJson(tinyVocabulary()));
    }

    private Path validMerges() throws IOException {
        return write("vocab.bpe", "#version: 0.2\ne l\nl l\nh el\n");
    }

    @Test
    void appliesLowestRankedMergeFirst() throws IOException {
        Gpt2Tokenizer tokenizer = Gpt2Tokenizer.load(validEncoder(), validMerges());
        // h e l l o: "e l" (rank 0) beats "l l" (rank 1) -> h el l o; then "h el" -> hel l o.
        assertArrayEquals(new int[] {HEL, 'l', 'o'}, tokenizer.encode("hello"));
        // " hello" is one pre-token starting with the space byte (id 32).
        assertArrayEquals(new int[] {HEL, 'l', 'o', ' ', HEL, 'l', 'o'}, tokenizer.encode("hello hello"));
        assertEquals(260, tokenizer.vocabSize());
        assertEquals(END_OF_TEXT, tokenizer.endOfTextId());
        assertArrayEquals(new int[] {'o', END_OF_TEXT, 'o'}, tokenizer.encodeWithSpecial("o<|endoftext|>o"));
        assertEquals("hello hello", tokenizer.decode(tokenizer.encode("hello hello")));
    }

    @Test
    void rankOrderOfTheMergeFileDecides() throws IOException {
        Path merges = write("vocab.bpe", "#version: 0.2\nl l\ne l\nh el\n");
        Gpt2Tokenizer tokenizer = Gpt2Tokenizer.load(validEncoder(), merges);
        // Now "l l" goes first -> h e ll o, and no rule joins e+ll or h+e.
        assertArrayEquals(new int[] {'h', 'e', LL, 'o'}, tokenizer.encode("hello"));
    }

    @Test
    void mergesAllOccurrencesLeftToRightWithoutOverlap() throws IOException {
        Gpt2Tokenizer tokenizer = Gpt2Tokenizer.load(validEncoder(), write("vocab.bpe", "#version: 0.2\nl l\n"));
        assertArrayEquals(new int[] {LL, 'l'}, tokenizer.encode("lll"));
        assertArrayEquals(new int[] {LL, LL}, tokenizer.encode("llll"));
    }

    @Test
    void acceptsCrLfLineEndingsInMergeFile() throws IOException {
        Path merges = write("vocab.bpe", "#version: 0.2\r\ne l\r\nl l\r\nh el\r\n");
        assertArrayEquals(new int[] {HEL, 'l', 'o'}, Gpt2Tokenizer.load(validEncoder(), merges).encode("hello"));
    }

    @Test
    void missingFileIsAnIOExceptionNamingIt() throws IOException {
        Path missing = folder.resolve("no-such-encoder.json");
        NoSuchFileException error = assertThrows(NoSuchFileException.class,
                () -> Gpt2Tokenizer.load(missing, validMerges()));
        assertTrue(error.getMessage().contains("no-such-encoder.json"), error.getMessage());
    }

    private void assertEncoderRejected(String encoderContent, String expectedFragment) throws IOException {
        Path encoder = write("broken-encoder.json", encoderContent);
        Path merges = validMerges();
        IllegalArgumentException error = assertThrows(IllegalArgumentException.class,
                () -> Gpt2Tokenizer.load(encoder, merges));
        assertTrue(error.getMessage().contains(encoder.toString()), "should name the file: " + error.getMessage());
        assertTrue(error.getMessage().contains(expectedFragment), "should say " + expectedFragment + ": " + error.getMessage());
    }

    private void assertMergesRejected(String mergesContent, String expectedFragment) throws IOException {
        Path encoder = validEncoder();
        Path merges = write("broken-vocab.bpe", mergesContent);
        IllegalArgumentException error = assertThrows(IllegalArgumentException.class,
                () -> Gpt2Tokenizer.load(encoder, merges));
        assertTrue(error.getMessage().contains(merges.toString()), "should name the file: " + error.getMessage());
        assertTrue(error.getMessage().contains(expectedFragment), "should say " + expectedFragment + ": " + error.getMessage());
    }

    @Test
    void rejectsTruncatedEncoderJson() throws IOException {
        String json = toJson(tinyVocabulary());
        assertEncoderRejected(json.substring(0, json.length() / 2), "malformed JSON");
    }

    @Test
    void rejectsEncoderJsonThatIsNotAnObject() throws IOException {
        assertEncoderRejected("[1, 2, 3]", "expected '{'");
        assertEncoderRejected("", "end of input");
    }

    @Test
    void rejectsNonIntegerIds() throws IOException {
        assertEncoderRejected(toJson(tinyVocabulary()).replace("\"hel\": 258", "\"hel\": 258.5"), "integer");
        assertEncoderRejected(toJson(tinyVocabulary()).replace("\"hel\": 258", "\"hel\": \"258\""), "integer");
    }

    @Test
    void rejectsIdsWithGapsOrDuplicates() throws IOException {
        assertEncoderRejected(toJson(tinyVocabulary()).replace("\"hel\": 258", "\"hel\": 900"), "900");
        assertEncoderRejected(toJson(tinyVocabulary()).replace("\"hel\": 258", "\"hel\": 257"), "id 257 is used by both");
    }

    @Test
    void rejectsTokenTextOutsideTheByteAlphabet() throws IOException {
        // A plain space is not a GPT-2 token character: bytes 0x20 is spelled "\u0120".
        assertEncoderRejected(toJson(tinyVocabulary()).replace("\"hel\"", "\"h l\""), "U+0020");
    }

    @Test
    void rejectsVocabularyWithoutEndOfText() throws IOException {
        Map<String, Integer> ids = tinyVocabulary();
        ids.remove("<|endoftext|>");
        assertEncoderRejected(toJson(ids), "<|endoftext|>");
    }

    @Test
    void rejectsVocabularyMissingASingleByteToken() throws IOException {
        Map<String, Integer> ids = new LinkedHashMap<>();
        tinyVocabulary().forEach((text, id) -> {
            if (!text.equals("A")) {
                ids.put(text, id < 'A' ? id : id - 1);
            }
        });
        assertEncoderRejected(toJson(ids), "0x41");
    }

    @Test
    void rejectsInvalidUtf8() throws IOException {
        Path encoder = folder.resolve("latin1-encoder.json");
        Files.write(encoder, new byte[] {'{', '"', (byte) 0xE9, '"', ':', '0', '}'});
        IllegalArgumentException error = assertThrows(IllegalArgumentException.class,
                () -> Gpt2Tokenizer.load(encoder, validMerges()));
        assertTrue(error.getMessage().contains(encoder.toString()) && error.getMessage().contains("UTF-8"),
                error.getMessage());
    }

    @Test
    void rejectsMergeFileWithoutVersionHeader() throws IOException {
        assertMergesRejected("e l\nl l\n", "line 1");
    }

    @Test
    void rejectsMergeLineWithoutExactlyTwoTokens() throws IOException {
        assertMergesRejected("#version: 0.2\ne l\nhel\n", "line 3");
        assertMergesRejected("#version: 0.2\ne l x\n", "line 2");
        assertMergesRejected("#version: 0.2\ne  l\n", "line 2");
    }

    @Test
    void rejectsMergeOfUnknownToken() throws IOException {
        assertMergesRejected("#version: 0.2\ne l\nq\u00c4 l\n", "line 3");
    }

    @Test
    void rejectsMergeWhoseResultIsNotInTheVocabulary() throws IOException {
        assertMergesRejected("#version: 0.2\ne l\nl o\n", "\"lo\" is not in the vocabulary");
    }

    @Test
    void rejectsRepeatedMerge() throws IOException {
        assertMergesRejected("#version: 0.2\ne l\nl l\ne l\n", "line 4");
    }
}
