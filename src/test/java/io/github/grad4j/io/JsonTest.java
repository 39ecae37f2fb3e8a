package io.github.grad4j.io;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@link Json}: what it reads, what it rejects (RFC 8259 and a little more) and how it says so. */
class JsonTest {

    // ------------------------------------------------------------------ valid input

    @Test
    void readsEveryKindOfValue() {
        Object v = Json.parse(" {\"s\": \"x\", \"i\": -12, \"d\": 0.5, \"e\": 1E+2, \"t\": true, \"f\": false,"
                + " \"n\": null, \"a\": [1, [], {}], \"o\": {\"k\": \"v\"}} ");
        Map<?, ?> m = (Map<?, ?>) v;
        assertEquals(List.of("s", "i", "d", "e", "t", "f", "n", "a", "o"), new ArrayList<>(m.keySet()));
        assertEquals("x", m.get("s"));
        assertEquals(-12L, m.get("i"));
        assertEquals(0.5, m.get("d"));
        assertEquals(100.0, m.get("e"));
        assertEquals(Boolean.TRUE, m.get("t"));
        assertEquals(Boolean.FALSE, m.get("f"));
        assertTrue(m.containsKey("n"));
        assertNull(m.get("n"));
        assertEquals(Arrays.asList(1L, List.of(), Map.of()), m.get("a"));
        assertEquals(Map.of("k", "v"), m.get("o"));
        assertInstanceOf(LinkedHashMap.class, v);
        assertInstanceOf(ArrayList.class, m.get("a"));
    }

    @Test
    void readsScalarsAtTopLevel() {
        assertEquals("a", Json.parse("\"a\""));
        assertEquals(0L, Json.parse("0"));
        assertEquals(0L, Json.parse("-0"));
        assertEquals(-0.0, Json.parse("-0.0"));
        assertEquals(0.0, Json.parse("0e1"));
        assertNull(Json.parse("null"));
    }

    @Test
    void integersAreLongsOverTheirWholeRange() {
        assertEquals(Long.MAX_VALUE, Json.parse("9223372036854775807"));
        assertEquals(Long.MIN_VALUE, Json.parse("-9223372036854775808"));
        assertEquals(999999999999999999L, Json.parse("999999999999999999"));
        assertEquals(-1000000000000000000L, Json.parse("-1000000000000000000"));
        assertEquals(1.5e300, Json.parse("1.5e300"));
    }

    @Test
    void decodesEscapes() {
        assertEquals("\"\\/\b\f\n\r\t", Json.parse("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\""));
        assertEquals("\u0120the\u00e9\u00C9\u0000", Json.parse("\"\\u0120the\\u00e9\\u00C9\\u0000\""));
        assertEquals("a\u007fb", Json.parse("\"a\u007fb\"")); // DEL is not a control character for JSON
    }

    @Test
    void joinsEscapedSurrogatePairs() {
        String s = (String) Json.parse("\"\\ud83d\\ude00!\"");
        assertEquals("\ud83d\ude00!", s);
        assertEquals(0x1F600, s.codePointAt(0));
        assertEquals("\ud83d\ude00", Json.parse("\"\\uD83D\\uDE00\""));
    }

    @Test
    void keepsRawNonAsciiAndRawSurrogatePairs() {
        assertEquals(Map.of("\u00e9\ud83d\ude00", "\ud83d\ude00"), Json.parse("{\"\u00e9\ud83d\ude00\": \"\ud83d\ude00\"}"));
    }

    @Test
    void skipsALeadingByteOrderMark() {
        assertEquals(Map.of("a", 0L), Json.parse("\uFEFF{\"a\": 0}"));
        // ...but only at the very start
        assertThrows(IllegalArgumentException.class, () -> Json.parse(" \uFEFF{}"));
    }

    @Test
    void readsBackWhatItWrites() {
        Map<String, Object> config = new LinkedHashMap<>();
        config.put("name", "gpt2 \"tiny\"\n\t\u0001\u00e9\ud83d\ude00");
        config.put("layers", 2L);
        config.put("lr", 3.0e-4);
        config.put("warm", 1.0);
        config.put("shape", List.of(3L, 4L));
        config.put("ids", new int[] {1, 2});
        config.put("empty", Map.of());
        config.put("none", null);
        config.put("flag", true);
        Map<String, Object> expected = new LinkedHashMap<>(config);
        expected.put("warm", 1L); // integral doubles are written without a fraction
        expected.put("ids", List.of(1L, 2L));
        assertEquals(expected, Json.parse(Json.write(config)));
        assertEquals(expected, Json.parse(Json.writePretty(config)));
    }

    @Test
    void readsASafetensorsStyleHeader() {
        String header = "{\"__metadata__\":{\"format\":\"pt\"},\"wte.weight\":{\"dtype\":\"F32\",\"shape\":[50257,768],"
                + "\"data_offsets\":[0,154389504]}}";
        Map<?, ?> m = (Map<?, ?>) Json.parse(header);
        assertEquals(Map.of("format", "pt"), m.get("__metadata__"));
        assertEquals(List.of(0L, 154389504L), ((Map<?, ?>) m.get("wte.weight")).get("data_offsets"));
    }

    // ------------------------------------------------------------------ errors

    @Test
    void deepNestingIsAnErrorNotAStackOverflow() {
        String ok = "[".repeat(Json.MAX_DEPTH) + "]".repeat(Json.MAX_DEPTH);
        assertDoesNotThrow(() -> Json.parse(ok));
        assertRejected("[".repeat(100_000), "nested deeper than " + Json.MAX_DEPTH);
        assertRejected("{\"a\":".repeat(Json.MAX_DEPTH + 1) + "1" + "}".repeat(Json.MAX_DEPTH + 1), "nested deeper");
    }

    private static String rejected(String json) {
        return assertThrows(IllegalArgumentException.class, () -> Json.parse(json)).getMessage();
    }

    private static void assertRejected(String json, String expectedFragment) {
        String message = rejected(json);
        assertTrue(message.startsWith("malformed JSON at line "), message);
        assertTrue(message.contains(expectedFragment), "expected '" + expectedFragment + "' in: " + message);
    }

    @Test
    void messagesGiveLineAndColumn() {
        assertEquals("malformed JSON at line 3, column 7: expected ':' but found \"2}\"",
                rejected("{\n  \"a\": 1,\n  \"b\" 2}"));
        assertRejected("[1,\r\n 2,\r\n x]", "line 3, column 2: expected a value but found \"x]\"");
        assertRejected("", "line 1, column 1: expected a value but found end of input");
        assertRejected("\uFEFF{x}", "line 1, column 2: expected '\"' to start a key");
    }

    @Test
    void sourceNameGoesInFrontOfTheMessage() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Json.parse("{\"a\": tru}", "config.json"));
        assertEquals("config.json: malformed JSON at line 1, column 7: expected true but found \"tru}\"", e.getMessage());
    }

    @Test
    void rejectsDuplicateKeysNamingTheKey() {
        assertEquals("malformed JSON at line 2, column 1: duplicate key \"a\"", rejected("{\"a\": 1,\n\"a\": 2}"));
        assertRejected("{\"a\": null, \"a\": null}", "duplicate key \"a\"");
        assertRejected("{\"x\": {\"k\": 1, \"k\": 1}}", "duplicate key \"k\"");
        assertRejected("{\"\\u0041\": 1, \"A\": 2}", "duplicate key \"A\""); // the same key, spelled two ways
        assertRejected("{\"\\n\": 1, \"\\n\": 2}", "duplicate key \"\\u000a\"");
        // the same key in different objects is fine
        assertEquals(List.of(Map.of("k", 1L), Map.of("k", 2L)), Json.parse("[{\"k\": 1}, {\"k\": 2}]"));
    }

    @Test
    void rejectsLoneSurrogates() {
        assertRejected("\"\\ud83d\"", "high surrogate \\ud83d not followed by a \\u low surrogate");
        assertRejected("\"\\ud83dx\"", "high surrogate");
        assertRejected("\"\\ud83d\\u0041\"", "followed by \\u0041, which is not a low surrogate");
        assertRejected("\"\\ud83d\\ud83d\"", "not a low surrogate");
        assertRejected("\"\\ude00\"", "low surrogate \\ude00 without a preceding high surrogate");
        assertRejected("\"\\ude00\\ud83d\"", "low surrogate");
        assertRejected("\"a\ud83d\"", "lone surrogate U+D83D");
        assertRejected("\"a\ude00b\"", "lone surrogate U+DE00");
        assertRejected("\"\\ud83d\ude00\"", "high surrogate"); // escaped half, raw half
    }

    @Test
    void rejectsLeadingZeros() {
        assertRejected("01", "leading zeros are not allowed in JSON numbers: 01");
        assertRejected("-012", "leading zeros are not allowed in JSON numbers: -012");
        assertRejected("00", "leading zeros");
        assertRejected("[00.5]", "line 1, column 2: leading zeros");
        assertRejected("{\"a\": 007}", "line 1, column 7: leading zeros");
    }

    @Test
    void rejectsOtherMalformedNumbers() {
        assertRejected("-", "expected a digit after '-'");
        assertRejected("-a", "expected a digit after '-'");
        assertRejected("1.", "expected a digit after the decimal point");
        assertRejected("1.e3", "expected a digit after the decimal point");
        assertRejected("1e", "expected a digit in the exponent");
        assertRejected("1e+", "expected a digit in the exponent");
        assertRejected(".5", "expected a value");
        assertRejected("+1", "expected a value");
        assertRejected("NaN", "expected a value");
        assertRejected("Infinity", "expected a value");
        assertRejected("-Infinity", "expected a digit after '-'");
        assertRejected("1.2.3", "unexpected content after the value");
        assertRejected("0x10", "unexpected content after the value");
        assertRejected("9223372036854775808", "integer 9223372036854775808 does not fit in a 64-bit long");
        assertRejected("-9223372036854775809", "does not fit in a 64-bit long");
    }

    @Test
    void rejectsControlCharactersInStrings() {
        assertRejected("\"a\nb\"", "line 1, column 3: unescaped control character U+000A in string");
        assertRejected("\"a\tb\"", "unescaped control character U+0009");
        assertRejected("\"\u0000\"", "unescaped control character U+0000");
        assertRejected("{\"k\u001f\": 1}", "unescaped control character U+001F");
        assertRejected("[\"\\\\\r\"]", "unescaped control character U+000D"); // after an escape, on the slow path
    }

    @Test
    void rejectsInvalidEscapes() {
        assertRejected("\"\\x41\"", "invalid escape sequence \\x");
        assertRejected("\"\\'\"", "invalid escape sequence \\'");
        assertRejected("\"\\U0041\"", "invalid escape sequence \\U");
        assertRejected("[\"\\u12\", 1]", "\\u escape needs four hex digits, found \"12\",\"");
        assertRejected("\"\\u12", "truncated \\u escape");
        assertRejected("\"\\u12g4\"", "\\u escape needs four hex digits, found \"12g4\"");
        assertRejected("\"\\u+123\"", "four hex digits");
        assertRejected("\"\\u\uff11\uff12\uff13\uff14\"", "four hex digits"); // fullwidth digits
        assertRejected("\"\\", "unterminated escape sequence");
    }

    @Test
    void rejectsStructuralErrors() {
        assertRejected("{\"a\": 1,}", "expected '\"' to start a key but found \"}\"");
        assertRejected("[1, 2,]", "expected a value but found \"]\"");
        assertRejected("[1 2]", "expected ',' or ']' but found \"2]\"");
        assertRejected("{\"a\": 1 \"b\": 2}", "expected ',' or '}'");
        assertRejected("{\"a\": 1", "expected ',' or '}' but found end of input");
        assertRejected("[", "expected a value but found end of input");
        assertRejected("{a: 1}", "expected '\"' to start a key");
        assertRejected("{'a': 1}", "expected '\"' to start a key");
        assertRejected("{\"a\": 1} x", "unexpected content after the closing '}': \"x\"");
        assertRejected("[] []", "unexpected content after the closing ']'");
        assertRejected("\"abc", "line 1, column 1: unterminated string");
        assertRejected("{\"a\": \"x\\\"}", "unterminated string");
        assertRejected("truex", "unexpected content after the value");
        assertRejected("nul", "expected null but found \"nul\"");
        assertRejected("// comment\n{}", "expected a value");
        assertRejected("{}\u00a0", "unexpected content"); // only the four JSON whitespace characters
    }

    @Test
    void longContentIsCutShortInMessages() {
        String message = rejected("[1, xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx]");
        assertTrue(message.endsWith("found \"xxxxxxxxxxxx\"..."), message);
    }
}
