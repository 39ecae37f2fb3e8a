package io.github.grad4j.experiments.gpt2.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Reading encoder.json: {@link io.github.grad4j.io.Json} (RFC 8259, checked in more detail by
 * JsonTest) followed by the tokenizer's check that the document is an object of token texts to
 * non-negative int ids. Errors must start with the source name.
 */
class Gpt2TokenizerEncoderJsonTest {

    private static Map<String, Integer> parse(String json) {
        return Gpt2Tokenizer.parseEncoderJson(json, "test.json");
    }

    @Test
    void parsesEmptyObjectAndWhitespace() {
        assertEquals(Map.of(), parse("{}"));
        assertEquals(Map.of("a", 1, "b", 22), parse(" \t\r\n{ \"a\" :1 ,\n\"b\":\t22 }\n"));
    }

    @Test
    void keepsDocumentOrder() {
        assertEquals(List.of("z", "a", "m"), List.copyOf(parse("{\"z\": 0, \"a\": 1, \"m\": 2}").keySet()));
    }

    @Test
    void decodesAllSimpleEscapes() {
        assertEquals(Map.of("\"\\/\b\f\n\r\t", 7), parse("{\"\\\"\\\\\\/\\b\\f\\n\\r\\t\": 7}"));
    }

    @Test
    void decodesUnicodeEscapesInAnyHexCase() {
        assertEquals(Map.of("\u0120the", 262, "\u00e9\u00C9", 1), parse("{\"\\u0120the\": 262, \"\\u00e9\\u00C9\": 1}"));
    }

    @Test
    void joinsEscapedSurrogatePairIntoOneCodePoint() {
        String key = parse("{\"\\ud83d\\ude00!\": 5}").keySet().iterator().next();
        assertEquals(0x1F600, key.codePointAt(0));
        assertEquals("\ud83d\ude00!", key);
    }

    @Test
    void keepsRawNonAsciiCharacters() {
        assertEquals(Map.of("\u00e9\ud83d\ude00", 3), parse("{\"\u00e9\ud83d\ude00\": 3}"));
    }

    @Test
    void toleratesByteOrderMark() {
        assertEquals(Map.of("a", 0), parse("\uFEFF{\"a\": 0}"));
    }

    @Test
    void acceptsLargestInt() {
        assertEquals(Map.of("a", Integer.MAX_VALUE), parse("{\"a\": 2147483647}"));
    }

    private static void assertRejected(String json, String expectedFragment) {
        IllegalArgumentException error = assertThrows(IllegalArgumentException.class, () -> parse(json));
        assertTrue(error.getMessage().startsWith("test.json: "), error.getMessage());
        assertTrue(error.getMessage().contains(expectedFragment),
                "expected '" + expectedFragment + "' in: " + error.getMessage());
    }

    @Test
    void rejectsUnpairedSurrogateEscapes() {
        assertRejected("{\"\\ud83d\": 1}", "high surrogate");
        assertRejected("{\"\\ud83dx\": 1}", "high surrogate");
        assertRejected("{\"\\ud83d\\u0041\": 1}", "not a low surrogate");
        assertRejected("{\"\\ude00\": 1}", "low surrogate");
    }

    @Test
    void rejectsBadEscapes() {
        assertRejected("{\"\\x41\": 1}", "invalid escape");
        assertRejected("{\"\\u12\": 1}", "\\u");
        assertRejected("{\"\\u12g4\": 1}", "four hex digits");
    }

    @Test
    void rejectsStructuralErrors() {
        assertRejected("{\"a\" 1}", "expected ':'");
        assertRejected("{\"a\": 1,}", "expected '\"'");
        assertRejected("{\"a\": 1 \"b\": 2}", "expected ',' or '}'");
        assertRejected("{\"a\": 1", "end of input");
        assertRejected("{\"a\": 1} x", "after the closing");
        assertRejected("{\"a: 1}", "unterminated string");
        assertRejected("{\"a\nb\": 1}", "control character");
    }

    @Test
    void rejectsNonIntegerAndOutOfRangeValues() {
        assertRejected("{\"a\": -1}", "negative");
        assertRejected("{\"a\": 1.0}", "integer");
        assertRejected("{\"a\": 1e3}", "integer");
        assertRejected("{\"a\": 01}", "leading zeros");
        assertRejected("{\"a\": 2147483648}", "does not fit");
        assertRejected("{\"a\": true}", "non-negative integer");
    }

    @Test
    void rejectsDocumentsThatAreNotObjects() {
        assertRejected("[1, 2]", "expected '{'");
        assertRejected("\"a\"", "expected '{'");
        assertRejected("7", "expected '{'");
        assertRejected("", "end of input");
    }

    @Test
    void shapeErrorsNameTheOffendingKey() {
        assertRejected("{\"a\": 1, \"\\u0120the\": -3}", "token \"\u0120the\" has the negative id -3");
        assertRejected("{\"a\": 1, \"bad\": \"258\"}", "token \"bad\" must have a non-negative integer id, found the string \"258\"");
        assertRejected("{\"x\": null}", "token \"x\" must have a non-negative integer id, found null");
        assertRejected("{\"x\": [1]}", "found an array");
        assertRejected("{\"big\": 9223372036854775807}", "token \"big\" has the id 9223372036854775807, which does not fit in an int");
    }

    @Test
    void rejectsDuplicateKeys() {
        assertRejected("{\"a\": 1, \"a\": 2}", "duplicate key \"a\"");
    }

    @Test
    void reportsLineAndColumn() {
        assertRejected("{\n  \"a\": 1,\n  \"b\" 2}", "line 3, column 7");
    }
}
