package io.github.grad4j.io;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A small, strict JSON reader and writer for the engine's own files (safetensors headers,
 * config.json, GPT-2's encoder.json). Objects become LinkedHashMap (key order kept), arrays
 * ArrayList, numbers Double or Long (integers without fraction or exponent), plus String,
 * Boolean and null.
 *
 * <p>The reader accepts exactly RFC 8259 JSON text: no leading zeros, no trailing commas, only
 * the standard escapes, no unescaped control characters in strings. On top of the RFC it rejects
 * objects that repeat a key and strings holding a lone UTF-16 surrogate (escaped or raw); an
 * escaped surrogate pair such as {@code "\\ud83d\\ude00"} becomes the one code point it spells.
 * A leading byte order mark (U+FEFF) is skipped, as RFC 8259 section 8.1 allows. Integers
 * outside the range of a {@code long} are rejected rather than rounded. Malformed input throws
 * an {@link IllegalArgumentException} whose message names the source (when given), the line and
 * column (both counted from 1, columns in UTF-16 chars) and what was expected there.
 */
public final class Json {
    private final String text;
    private final String sourceName;
    private int pos;

    private Json(String text, String sourceName) {
        this.text = text;
        this.sourceName = sourceName;
    }

    /** Parses one JSON value; throws IllegalArgumentException with the line and column on malformed input. */
    public static Object parse(String text) {
        return parse(text, null);
    }

    /**
     * Parses one JSON value.
     *
     * @param text       the whole document
     * @param sourceName put in front of error messages (usually the file name); may be null
     * @throws IllegalArgumentException if {@code text} is not exactly one JSON value, with the
     *                                  line and column of the problem in the message
     */
    public static Object parse(String text, String sourceName) {
        Json p = new Json(text, sourceName);
        if (text.startsWith("\uFEFF")) p.pos = 1;
        p.skipWhitespace();
        Object v = p.value();
        p.skipWhitespace();
        if (p.pos != text.length()) {
            String after = v instanceof Map ? "the closing '}'" : v instanceof List ? "the closing ']'" : "the value";
            throw p.error(p.pos, "unexpected content after " + after + ": " + p.describe(p.pos));
        }
        return v;
    }

    private IllegalArgumentException error(int at, String what) {
        int line = 1;
        int lineStart = text.startsWith("\uFEFF") ? 1 : 0;
        for (int i = 0; i < at && i < text.length(); i++) {
            if (text.charAt(i) == '\n') {
                line++;
                lineStart = i + 1;
            }
        }
        int column = at - lineStart + 1;
        return new IllegalArgumentException((sourceName == null ? "" : sourceName + ": ")
                + "malformed JSON at line " + line + ", column " + column + ": " + what);
    }

    private void skipWhitespace() {
        while (pos < text.length()) {
            char c = text.charAt(pos);
            if (c == ' ' || c == '\t' || c == '\n' || c == '\r') pos++;
            else break;
        }
    }

    /** Deepest nesting of objects and arrays accepted: deeper input is an error, not a StackOverflowError. */
    static final int MAX_DEPTH = 512;
    private int depth;

    private Object value() {
        if (pos >= text.length()) throw error(pos, "expected a value but found end of input");
        char c = text.charAt(pos);
        switch (c) {
            case '{':
            case '[':
                if (++depth > MAX_DEPTH) throw error(pos, "nested deeper than " + MAX_DEPTH + " objects and arrays");
                try {
                    return c == '{' ? object() : array();
                } finally {
                    depth--;
                }
            case '"': return string();
            case 't': return literal("true", Boolean.TRUE);
            case 'f': return literal("false", Boolean.FALSE);
            case 'n': return literal("null", null);
            default:
                if (c == '-' || (c >= '0' && c <= '9')) return number();
                throw error(pos, "expected a value but found " + describe(pos));
        }
    }

    private Object literal(String word, Object v) {
        if (!text.startsWith(word, pos)) throw error(pos, "expected " + word + " but found " + describe(pos));
        pos += word.length();
        return v;
    }

    private Map<String, Object> object() {
        Map<String, Object> m = new LinkedHashMap<>();
        pos++;
        skipWhitespace();
        if (pos < text.length() && text.charAt(pos) == '}') {
            pos++;
            return m;
        }
        while (true) {
            skipWhitespace();
            int keyStart = pos;
            if (pos >= text.length() || text.charAt(pos) != '"') {
                throw error(pos, "expected '\"' to start a key but found " + describe(pos));
            }
            String key = string();
            skipWhitespace();
            expect(':');
            skipWhitespace();
            Object v = value();
            int before = m.size();
            m.put(key, v);
            if (m.size() == before) throw error(keyStart, "duplicate key " + quoteForMessage(key));
            skipWhitespace();
            if (pos < text.length()) {
                char c = text.charAt(pos);
                if (c == ',' || c == '}') {
                    pos++;
                    if (c == '}') return m;
                    continue;
                }
            }
            throw error(pos, "expected ',' or '}' but found " + describe(pos));
        }
    }

    private List<Object> array() {
        List<Object> l = new ArrayList<>();
        pos++;
        skipWhitespace();
        if (pos < text.length() && text.charAt(pos) == ']') {
            pos++;
            return l;
        }
        while (true) {
            skipWhitespace();
            l.add(value());
            skipWhitespace();
            if (pos < text.length()) {
                char c = text.charAt(pos);
                if (c == ',' || c == ']') {
                    pos++;
                    if (c == ']') return l;
                    continue;
                }
            }
            throw error(pos, "expected ',' or ']' but found " + describe(pos));
        }
    }

    /** Called with {@code pos} at the opening quote. */
    private String string() {
        int open = pos;
        int start = ++pos;
        // Fast path: most strings have no escapes, control characters or surrogates.
        while (pos < text.length()) {
            char c = text.charAt(pos);
            if (c == '"') {
                pos++;
                return text.substring(start, pos - 1);
            }
            if (c == '\\' || c < 0x20 || Character.isSurrogate(c)) break;
            pos++;
        }
        StringBuilder sb = new StringBuilder(pos - start + 16).append(text, start, pos);
        while (true) {
            if (pos >= text.length()) throw error(open, "unterminated string (no closing '\"' before end of input)");
            char c = text.charAt(pos);
            if (c == '"') {
                pos++;
                return sb.toString();
            }
            if (c < 0x20) {
                throw error(pos, String.format("unescaped control character U+%04X in string", (int) c));
            }
            if (Character.isHighSurrogate(c) && pos + 1 < text.length() && Character.isLowSurrogate(text.charAt(pos + 1))) {
                sb.append(c).append(text.charAt(pos + 1));
                pos += 2;
                continue;
            }
            if (Character.isSurrogate(c)) {
                throw error(pos, String.format("lone surrogate U+%04X in string (not half of a surrogate pair)", (int) c));
            }
            if (c != '\\') {
                sb.append(c);
                pos++;
                continue;
            }
            int escapeStart = pos++;
            if (pos >= text.length()) throw error(escapeStart, "unterminated escape sequence");
            char e = text.charAt(pos++);
            switch (e) {
                case '"': sb.append('"'); break;
                case '\\': sb.append('\\'); break;
                case '/': sb.append('/'); break;
                case 'b': sb.append('\b'); break;
                case 'f': sb.append('\f'); break;
                case 'n': sb.append('\n'); break;
                case 'r': sb.append('\r'); break;
                case 't': sb.append('\t'); break;
                case 'u': appendUnicodeEscape(sb, escapeStart); break;
                default: throw error(escapeStart, "invalid escape sequence \\" + e);
            }
        }
    }

    /** Called with {@code pos} just after {@code \\u}; a surrogate must come as an escaped pair. */
    private void appendUnicodeEscape(StringBuilder sb, int escapeStart) {
        char unit = (char) fourHexDigits(escapeStart);
        if (Character.isLowSurrogate(unit)) {
            throw error(escapeStart, String.format("low surrogate \\u%04x without a preceding high surrogate", (int) unit));
        }
        if (Character.isHighSurrogate(unit)) {
            int lowStart = pos;
            if (!text.startsWith("\\u", pos)) {
                throw error(escapeStart, String.format("high surrogate \\u%04x not followed by a \\u low surrogate", (int) unit));
            }
            pos += 2;
            char low = (char) fourHexDigits(lowStart);
            if (!Character.isLowSurrogate(low)) {
                throw error(escapeStart, String.format(
                        "high surrogate \\u%04x followed by \\u%04x, which is not a low surrogate", (int) unit, (int) low));
            }
            sb.append(unit).append(low);
            return;
        }
        sb.append(unit);
    }

    private int fourHexDigits(int escapeStart) {
        if (pos + 4 > text.length()) throw error(escapeStart, "truncated \\u escape (needs four hex digits)");
        int value = 0;
        for (int i = 0; i < 4; i++) {
            char c = text.charAt(pos + i);
            int digit = c >= '0' && c <= '9' ? c - '0'
                    : c >= 'a' && c <= 'f' ? c - 'a' + 10
                    : c >= 'A' && c <= 'F' ? c - 'A' + 10
                    : -1;
            if (digit < 0) {
                throw error(escapeStart, "\\u escape needs four hex digits, found " + quoteForMessage(text.substring(pos, pos + 4)));
            }
            value = value * 16 + digit;
        }
        pos += 4;
        return value;
    }

    /** RFC 8259: {@code -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?}. */
    private Object number() {
        int start = pos;
        boolean negative = text.charAt(pos) == '-';
        if (negative) pos++;
        int digitsStart = pos;
        long magnitude = 0;
        while (pos < text.length() && isDigit(text.charAt(pos))) {
            magnitude = magnitude * 10 + (text.charAt(pos) - '0'); // may overflow; only used for <= 18 digits
            pos++;
        }
        int digits = pos - digitsStart;
        if (digits == 0) throw error(pos, "expected a digit after '-' but found " + describe(pos));
        if (digits > 1 && text.charAt(digitsStart) == '0') {
            throw error(start, "leading zeros are not allowed in JSON numbers: " + text.substring(start, pos));
        }
        boolean integral = true;
        if (pos < text.length() && text.charAt(pos) == '.') {
            integral = false;
            pos++;
            if (!skipDigits()) throw error(pos, "expected a digit after the decimal point but found " + describe(pos));
        }
        if (pos < text.length() && (text.charAt(pos) == 'e' || text.charAt(pos) == 'E')) {
            integral = false;
            pos++;
            if (pos < text.length() && (text.charAt(pos) == '+' || text.charAt(pos) == '-')) pos++;
            if (!skipDigits()) throw error(pos, "expected a digit in the exponent but found " + describe(pos));
        }
        if (!integral) return Double.parseDouble(text.substring(start, pos));
        if (digits <= 18) return negative ? -magnitude : magnitude;
        String s = text.substring(start, pos);
        try {
            return Long.parseLong(s);
        } catch (NumberFormatException ex) {
            throw error(start, "integer " + s + " does not fit in a 64-bit long");
        }
    }

    private boolean skipDigits() {
        int from = pos;
        while (pos < text.length() && isDigit(text.charAt(pos))) pos++;
        return pos > from;
    }

    private static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }

    private void expect(char c) {
        if (pos >= text.length() || text.charAt(pos) != c) {
            throw error(pos, "expected '" + c + "' but found " + describe(pos));
        }
        pos++;
    }

    /** The text at {@code at}, quoted and cut short, or "end of input". */
    private String describe(int at) {
        if (at >= text.length()) return "end of input";
        int end = Math.min(text.length(), at + 12);
        if (end < text.length() && Character.isHighSurrogate(text.charAt(end - 1))) end--;
        return quoteForMessage(text.substring(at, end)) + (end < text.length() ? "..." : "");
    }

    /** Quotes {@code s} for an error message, control characters and lone surrogates escaped. */
    private static String quoteForMessage(String s) {
        StringBuilder out = new StringBuilder("\"");
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            boolean pairedSurrogate = Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))
                    || Character.isLowSurrogate(c) && i > 0 && Character.isHighSurrogate(s.charAt(i - 1));
            if (c < 0x20 || c == 0x7F || (Character.isSurrogate(c) && !pairedSurrogate)) {
                out.append(String.format("\\u%04x", (int) c));
            } else {
                out.append(c);
            }
        }
        return out.append('"').toString();
    }

    // ---------------------------------------------------------------- writing

    /** Serializes maps, lists, strings, numbers, booleans and null. */
    public static String write(Object value) {
        StringBuilder sb = new StringBuilder();
        write(sb, value, -1, 0);
        return sb.toString();
    }

    /** Serializes with two-space indentation. */
    public static String writePretty(Object value) {
        StringBuilder sb = new StringBuilder();
        write(sb, value, 2, 0);
        return sb.append('\n').toString();
    }

    private static void write(StringBuilder sb, Object v, int indent, int depth) {
        if (v == null) sb.append("null");
        else if (v instanceof String) quote(sb, (String) v);
        else if (v instanceof Double || v instanceof Float) {
            double d = ((Number) v).doubleValue();
            if (!Double.isFinite(d)) throw new IllegalArgumentException("JSON cannot hold " + d);
            sb.append(d == Math.rint(d) && Math.abs(d) < 1e15 ? Long.toString((long) d) : Double.toString(d));
        } else if (v instanceof Number || v instanceof Boolean) sb.append(v);
        else if (v instanceof Map) {
            Map<?, ?> m = (Map<?, ?>) v;
            sb.append('{');
            int i = 0;
            for (Map.Entry<?, ?> e : m.entrySet()) {
                if (i++ > 0) sb.append(',');
                newline(sb, indent, depth + 1);
                quote(sb, String.valueOf(e.getKey()));
                sb.append(indent >= 0 ? ": " : ":");
                write(sb, e.getValue(), indent, depth + 1);
            }
            if (!m.isEmpty()) newline(sb, indent, depth);
            sb.append('}');
        } else if (v instanceof List) {
            List<?> l = (List<?>) v;
            sb.append('[');
            for (int i = 0; i < l.size(); i++) {
                if (i > 0) sb.append(indent >= 0 ? ", " : ",");
                write(sb, l.get(i), indent, depth + 1);
            }
            sb.append(']');
        } else if (v instanceof int[]) {
            int[] a = (int[]) v;
            List<Object> l = new ArrayList<>();
            for (int x : a) l.add((long) x);
            write(sb, l, indent, depth);
        } else throw new IllegalArgumentException("JSON cannot hold a " + v.getClass().getName());
    }

    private static void newline(StringBuilder sb, int indent, int depth) {
        if (indent < 0) return;
        sb.append('\n');
        for (int i = 0; i < indent * depth; i++) sb.append(' ');
    }

    private static void quote(StringBuilder sb, String s) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"': sb.append("\\\""); break;
                case '\\': sb.append("\\\\"); break;
                case '\n': sb.append("\\n"); break;
                case '\r': sb.append("\\r"); break;
                case '\t': sb.append("\\t"); break;
                default:
                    if (c < 0x20) sb.append(String.format("\\u%04x", (int) c));
                    else sb.append(c);
            }
        }
        sb.append('"');
    }
}
