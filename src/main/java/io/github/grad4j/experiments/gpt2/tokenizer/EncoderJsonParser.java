package io.github.grad4j.experiments.gpt2.tokenizer;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A small strict parser for exactly the JSON shape of GPT-2's {@code encoder.json}: one object
 * whose keys are strings and whose values are non-negative integers.
 *
 * <p>Written here so the tokenizer needs no JSON library. It follows RFC 8259 for everything it
 * accepts (string escapes, whitespace, no leading zeros) and rejects anything else with an
 * {@link IllegalArgumentException} that names the source, the line and the column. A
 * {@code \\uXXXX} high surrogate must be followed by a {@code \\uXXXX} low surrogate; the pair is
 * kept as the two UTF-16 chars, so {@code "\\ud83d\\ude00"} reads as one emoji. Lone surrogates
 * are rejected because such keys can never be a tokenizer's (valid Unicode) token text.
 */
final class EncoderJsonParser {

    private final String text;
    private final String sourceName;
    private int position;

    private EncoderJsonParser(String text, String sourceName) {
        this.text = text;
        this.sourceName = sourceName;
    }

    /**
     * Parses {@code json} as an object of string keys to non-negative {@code int} values.
     *
     * @param json       the whole document
     * @param sourceName named in error messages (usually the file name)
     * @return the entries in document order
     * @throws IllegalArgumentException if the document is not such an object, or repeats a key
     */
    static Map<String, Integer> parseStringToIntObject(String json, String sourceName) {
        return new EncoderJsonParser(json, sourceName).parseDocument();
    }

    private Map<String, Integer> parseDocument() {
        if (text.startsWith("\uFEFF")) {
            position = 1; // tolerate a UTF-8 byte order mark written by some editors
        }
        skipWhitespace();
        expect('{');
        Map<String, Integer> entries = new LinkedHashMap<>();
        skipWhitespace();
        if (peek() == '}') {
            position++;
        } else {
            while (true) {
                skipWhitespace();
                int keyStart = position;
                String key = parseString();
                skipWhitespace();
                expect(':');
                skipWhitespace();
                int value = parseNonNegativeInt();
                if (entries.putIfAbsent(key, value) != null) {
                    throw errorAt(keyStart, "duplicate key " + quoteForMessage(key));
                }
                skipWhitespace();
                char separator = peek();
                if (separator == ',') {
                    position++;
                } else if (separator == '}') {
                    position++;
                    break;
                } else {
                    throw errorAt(position, "expected ',' or '}' but found " + describe(position));
                }
            }
        }
        skipWhitespace();
        if (position != text.length()) {
            throw errorAt(position, "unexpected content after the closing '}': " + describe(position));
        }
        return entries;
    }

    private String parseString() {
        expect('"');
        StringBuilder out = new StringBuilder();
        while (true) {
            if (position >= text.length()) {
                throw errorAt(position, "unterminated string");
            }
            char c = text.charAt(position);
            if (c == '"') {
                position++;
                return out.toString();
            }
            if (c < 0x20) {
                throw errorAt(position, String.format("unescaped control character U+%04X in string", (int) c));
            }
            if (c != '\\') {
                out.append(c);
                position++;
                continue;
            }
            int escapeStart = position;
            position++;
            if (position >= text.length()) {
                throw errorAt(escapeStart, "unterminated escape sequence");
            }
            char escaped = text.charAt(position++);
            switch (escaped) {
                case '"': out.append('"'); break;
                case '\\': out.append('\\'); break;
                case '/': out.append('/'); break;
                case 'b': out.append('\b'); break;
                case 'f': out.append('\f'); break;
                case 'n': out.append('\n'); break;
                case 'r': out.append('\r'); break;
                case 't': out.append('\t'); break;
                case 'u': appendUnicodeEscape(out, escapeStart); break;
                default:
                    throw errorAt(escapeStart, "invalid escape sequence \\" + escaped);
            }
        }
    }

    /** Called with {@code position} just after {@code \\u}. */
    private void appendUnicodeEscape(StringBuilder out, int escapeStart) {
        char unit = (char) parseFourHexDigits(escapeStart);
        if (Character.isLowSurrogate(unit)) {
            throw errorAt(escapeStart, String.format("low surrogate \\u%04x without a preceding high surrogate", (int) unit));
        }
        if (Character.isHighSurrogate(unit)) {
            int lowStart = position;
            if (!text.startsWith("\\u", position)) {
                throw errorAt(escapeStart, String.format("high surrogate \\u%04x not followed by a \\u low surrogate", (int) unit));
            }
            position += 2;
            char low = (char) parseFourHexDigits(lowStart);
            if (!Character.isLowSurrogate(low)) {
                throw errorAt(escapeStart, String.format("high surrogate \\u%04x followed by \\u%04x, which is not a low surrogate", (int) unit, (int) low));
            }
            out.append(unit).append(low);
            return;
        }
        out.append(unit);
    }

    private int parseFourHexDigits(int escapeStart) {
        if (position + 4 > text.length()) {
            throw errorAt(escapeStart, "truncated \\u escape");
        }
        int value = 0;
        for (int i = 0; i < 4; i++) {
            int digit = Character.digit(text.charAt(position + i), 16);
            if (digit < 0 || text.charAt(position + i) > 'f') { // Character.digit also accepts fullwidth digits
                throw errorAt(escapeStart, "\\u escape needs four hex digits, found \"" + text.substring(position, position + 4) + "\"");
            }
            value = value * 16 + digit;
        }
        position += 4;
        return value;
    }

    private int parseNonNegativeInt() {
        int start = position;
        if (peek() == '-') {
            throw errorAt(start, "negative value; token ids must be non-negative integers");
        }
        while (position < text.length() && text.charAt(position) >= '0' && text.charAt(position) <= '9') {
            position++;
        }
        if (position == start) {
            throw errorAt(start, "expected a non-negative integer value but found " + describe(start));
        }
        char next = peek();
        if (next == '.' || next == 'e' || next == 'E') {
            throw errorAt(start, "token ids must be integers, found a fraction or exponent");
        }
        String digits = text.substring(start, position);
        if (digits.length() > 1 && digits.charAt(0) == '0') {
            throw errorAt(start, "leading zeros are not allowed in JSON numbers: " + digits);
        }
        try {
            return Integer.parseInt(digits);
        } catch (NumberFormatException e) {
            throw errorAt(start, "value " + digits + " does not fit in an int");
        }
    }

    private void skipWhitespace() {
        while (position < text.length()) {
            char c = text.charAt(position);
            if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
                return;
            }
            position++;
        }
    }

    private char peek() {
        return position < text.length() ? text.charAt(position) : '\0';
    }

    private void expect(char wanted) {
        if (position >= text.length() || text.charAt(position) != wanted) {
            throw errorAt(position, "expected '" + wanted + "' but found " + describe(position));
        }
        position++;
    }

    private String describe(int at) {
        if (at >= text.length()) {
            return "end of input";
        }
        int end = Math.min(text.length(), at + 12);
        return quoteForMessage(text.substring(at, end)) + (end < text.length() ? "..." : "");
    }

    private static String quoteForMessage(String s) {
        StringBuilder out = new StringBuilder("\"");
        s.chars().forEach(c -> {
            if (c < 0x20 || c == 0x7F) {
                out.append(String.format("\\u%04x", c));
            } else {
                out.append((char) c);
            }
        });
        return out.append('"').toString();
    }

    private IllegalArgumentException errorAt(int at, String message) {
        int line = 1;
        int lineStart = 0;
        for (int i = 0; i < at && i < text.length(); i++) {
            if (text.charAt(i) == '\n') {
                line++;
                lineStart = i + 1;
            }
        }
        int column = at - lineStart + 1;
        return new IllegalArgumentException(
                sourceName + ": malformed JSON at line " + line + ", column " + column + ": " + message);
    }
}
