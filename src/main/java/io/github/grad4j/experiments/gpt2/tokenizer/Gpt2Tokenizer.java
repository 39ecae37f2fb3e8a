package io.github.grad4j.experiments.gpt2.tokenizer;

import io.github.grad4j.io.Json;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * GPT-2's byte-level byte-pair-encoding tokenizer (the vocabulary OpenAI's tiktoken calls
 * {@code r50k_base}), implemented without third-party libraries.
 *
 * <p>Encoding works in three steps, exactly as in GPT-2:
 * <ol>
 *   <li>the text is split into pre-tokens ("words") by GPT-2's regular expression
 *       {@code 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+};</li>
 *   <li>each word is turned into its UTF-8 bytes, each byte into its single-byte token;</li>
 *   <li>adjacent tokens are merged by the rules of {@code vocab.bpe}, always the rule of lowest
 *       rank first (all non-overlapping occurrences of that pair, left to right), until no rule
 *       applies.</li>
 * </ol>
 * Decoding concatenates the tokens' bytes and reads them as UTF-8.
 *
 * <p>Instances are immutable apart from an internal bounded cache of already encoded words, and
 * are safe to use from several threads at once.
 */
public final class Gpt2Tokenizer {

    /** The text of GPT-2's only special token, which separates documents. */
    public static final String END_OF_TEXT = "<|endoftext|>";

    /**
     * GPT-2's pre-tokenizer. {@link Pattern#UNICODE_CHARACTER_CLASS} makes {@code \s} mean
     * Unicode White_Space (by default Java's {@code \s} is ASCII only), which is what the Rust
     * regex engine used by tiktoken means by it, so that e.g. NBSP or U+3000 runs split alike.
     */
    private static final Pattern PRE_TOKENIZER = Pattern.compile(
            "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+",
            Pattern.UNICODE_CHARACTER_CLASS);

    private static final String RESOURCE_FOLDER = "/io/github/grad4j/experiments/gpt2/tokenizer/";

    /**
     * Bound on the word cache. English text has a few tens of thousands of distinct words, so
     * this keeps nearly all of them, while a stream of never-repeating words (random data) can
     * cost at most this many entries before the cache is dropped and refilled.
     */
    private static final int WORD_CACHE_MAX_ENTRIES = 1 << 16;
    /** Longer words (e.g. long whitespace runs) are rare and would make the cache's size unbounded in bytes. */
    private static final int WORD_CACHE_MAX_WORD_LENGTH = 128;

    /** Indexed by token id: the bytes the token stands for. */
    private final byte[][] bytesByTokenId;
    /** Indexed by unsigned byte value: the id of the token consisting of just that byte. */
    private final int[] singleByteTokenIds;
    private final MergeTable merges;
    private final int endOfTextId;
    private final ConcurrentHashMap<String, int[]> tokensByWordCache = new ConcurrentHashMap<>();

    private Gpt2Tokenizer(byte[][] bytesByTokenId, int[] singleByteTokenIds, MergeTable merges, int endOfTextId) {
        this.bytesByTokenId = bytesByTokenId;
        this.singleByteTokenIds = singleByteTokenIds;
        this.merges = merges;
        this.endOfTextId = endOfTextId;
    }

    // ------------------------------------------------------------------ loading

    /** Holder idiom: the bundled vocabulary is parsed once, on first use. */
    private static final class Bundled {
        static final Gpt2Tokenizer INSTANCE = loadBundled();
    }

    /**
     * The GPT-2 tokenizer with the vocabulary files bundled with grad4j (50257 tokens, 50000
     * merges; see {@code NOTICE.txt} beside them for their origin). The files are parsed on the
     * first call; later calls return the same thread-safe instance.
     *
     * @throws IllegalStateException if the bundled files are missing from the class path
     */
    public static Gpt2Tokenizer gpt2() {
        return Bundled.INSTANCE;
    }

    private static Gpt2Tokenizer loadBundled() {
        try {
            String encoderJson = decodeUtf8(readResource("encoder.json"), "bundled encoder.json");
            String vocabBpe = decodeUtf8(readResource("vocab.bpe"), "bundled vocab.bpe");
            return fromTexts(encoderJson, "bundled encoder.json", vocabBpe, "bundled vocab.bpe");
        } catch (IOException e) {
            throw new UncheckedIOException("could not read the bundled GPT-2 vocabulary", e);
        }
    }

    private static byte[] readResource(String name) throws IOException {
        try (InputStream in = Gpt2Tokenizer.class.getResourceAsStream(RESOURCE_FOLDER + name)) {
            if (in == null) {
                throw new IllegalStateException("resource " + RESOURCE_FOLDER + name + " is not on the class path");
            }
            return in.readAllBytes();
        }
    }

    /**
     * Loads a GPT-2-style vocabulary from files.
     *
     * @param encoderJson a JSON object mapping each token's text (in GPT-2's byte-level
     *                    alphabet) to its id; ids must be exactly 0..N-1 and the object must
     *                    contain {@value #END_OF_TEXT}
     * @param vocabBpe    a {@code #version} header line followed by one merge rule per line,
     *                    two token texts separated by one space, in rank order
     * @throws IOException              if a file cannot be read
     * @throws IllegalArgumentException if a file is malformed; the message names the file and
     *                                  says what is wrong and where
     */
    public static Gpt2Tokenizer load(Path encoderJson, Path vocabBpe) throws IOException {
        String encoderText = decodeUtf8(Files.readAllBytes(encoderJson), encoderJson.toString());
        String vocabText = decodeUtf8(Files.readAllBytes(vocabBpe), vocabBpe.toString());
        return fromTexts(encoderText, encoderJson.toString(), vocabText, vocabBpe.toString());
    }

    private static String decodeUtf8(byte[] bytes, String sourceName) {
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes))
                    .toString();
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException(sourceName + ": not valid UTF-8 (" + e + ")", e);
        }
    }

    private static Gpt2Tokenizer fromTexts(String encoderJson, String encoderSource,
                                           String vocabBpe, String vocabSource) {
        Map<String, Integer> parsed = parseEncoderJson(encoderJson, encoderSource);
        if (parsed.isEmpty()) {
            throw new IllegalArgumentException(encoderSource + ": the vocabulary is empty");
        }
        int vocabSize = parsed.size();
        String[] textById = new String[vocabSize];
        for (Map.Entry<String, Integer> entry : parsed.entrySet()) {
            String tokenText = entry.getKey();
            int id = entry.getValue();
            if (id >= vocabSize) {
                throw new IllegalArgumentException(encoderSource + ": token " + quote(tokenText) + " has id " + id
                        + ", but with " + vocabSize + " entries ids must be 0.." + (vocabSize - 1));
            }
            if (textById[id] != null) {
                throw new IllegalArgumentException(encoderSource + ": id " + id + " is used by both "
                        + quote(textById[id]) + " and " + quote(tokenText));
            }
            textById[id] = tokenText;
        }
        // With N entries, ids in 0..N-1 and no id used twice, every id is used: no gaps to check.

        byte[][] bytesById = new byte[vocabSize][];
        for (int id = 0; id < vocabSize; id++) {
            bytesById[id] = bytesOfTokenText(textById[id], encoderSource);
        }
        Map<String, Integer> idsByText = new HashMap<>(parsed);

        int[] singleByteIds = new int[256];
        for (int b = 0; b < 256; b++) {
            Integer id = idsByText.get(String.valueOf(ByteLevelAlphabet.charForByte(b)));
            if (id == null) {
                throw new IllegalArgumentException(String.format(
                        "%s: no token for the single byte 0x%02X (spelled %s); byte-level BPE needs all 256",
                        encoderSource, b, quote(String.valueOf(ByteLevelAlphabet.charForByte(b)))));
            }
            singleByteIds[b] = id;
        }
        Integer endOfText = idsByText.get(END_OF_TEXT);
        if (endOfText == null) {
            throw new IllegalArgumentException(encoderSource + ": the special token " + END_OF_TEXT + " is missing");
        }
        MergeTable merges = parseMerges(vocabBpe, vocabSource, idsByText);
        return new Gpt2Tokenizer(bytesById, singleByteIds, merges, endOfText);
    }

    /**
     * Reads {@code encoder.json} with {@link Json} and checks its shape: one object whose values
     * are integers in 0..{@link Integer#MAX_VALUE}. Whether the ids are exactly 0..N-1 is checked
     * by the caller.
     *
     * @return the entries in document order
     * @throws IllegalArgumentException if the text is not JSON (the message gives line and column),
     *                                  not an object, or has a value that is not such an integer
     *                                  (the message names the key); always prefixed by {@code source}
     */
    static Map<String, Integer> parseEncoderJson(String json, String source) {
        Object parsed = Json.parse(json, source);
        if (!(parsed instanceof Map<?, ?> object)) {
            throw new IllegalArgumentException(source + ": expected '{', a JSON object of token texts to ids, but the document is "
                    + describeJsonValue(parsed));
        }
        Map<String, Integer> ids = new LinkedHashMap<>(object.size() * 4 / 3 + 1);
        for (Map.Entry<?, ?> entry : object.entrySet()) {
            String tokenText = (String) entry.getKey();
            Object value = entry.getValue();
            if (!(value instanceof Long id)) {
                throw new IllegalArgumentException(source + ": token " + quote(tokenText)
                        + " must have a non-negative integer id, found " + describeJsonValue(value));
            }
            if (id < 0) {
                throw new IllegalArgumentException(source + ": token " + quote(tokenText) + " has the negative id " + id
                        + "; token ids must be non-negative integers");
            }
            if (id > Integer.MAX_VALUE) {
                throw new IllegalArgumentException(source + ": token " + quote(tokenText) + " has the id " + id
                        + ", which does not fit in an int");
            }
            ids.put(tokenText, (int) (long) id);
        }
        return ids;
    }

    private static String describeJsonValue(Object value) {
        if (value == null) return "null";
        if (value instanceof Map) return "an object";
        if (value instanceof List) return "an array";
        if (value instanceof String s) return "the string " + quote(abbreviate(s));
        if (value instanceof Double d) return "the number " + d + ", which has a fraction or exponent, not an integer";
        return String.valueOf(value);
    }

    private static byte[] bytesOfTokenText(String tokenText, String encoderSource) {
        if (tokenText.isEmpty()) {
            throw new IllegalArgumentException(encoderSource + ": the empty string is not a valid token");
        }
        byte[] bytes = new byte[tokenText.length()];
        for (int i = 0; i < tokenText.length(); i++) {
            char c = tokenText.charAt(i);
            int b = ByteLevelAlphabet.byteForChar(c);
            if (b < 0) {
                throw new IllegalArgumentException(String.format(
                        "%s: token %s contains U+%04X, which is not one of GPT-2's 256 byte-level characters",
                        encoderSource, quote(tokenText), (int) c));
            }
            bytes[i] = (byte) b;
        }
        return bytes;
    }

    private static MergeTable parseMerges(String vocabBpe, String vocabSource, Map<String, Integer> idsByText) {
        String[] lines = vocabBpe.split("\n", -1);
        if (!lines[0].startsWith("#version")) {
            throw new IllegalArgumentException(vocabSource + ": line 1 must be the '#version' header, found "
                    + quote(abbreviate(lines[0])));
        }
        List<int[]> rules = new ArrayList<>(lines.length); // {left id, right id, merged id, line number}
        for (int lineIndex = 1; lineIndex < lines.length; lineIndex++) {
            String line = lines[lineIndex];
            if (line.endsWith("\r")) {
                line = line.substring(0, line.length() - 1); // tolerate CRLF; '\r' is never in a token's text
            }
            if (line.isEmpty()) {
                continue; // the file ends with a newline
            }
            int lineNumber = lineIndex + 1;
            int space = line.indexOf(' ');
            if (space <= 0 || space == line.length() - 1 || line.indexOf(' ', space + 1) >= 0) {
                throw new IllegalArgumentException(vocabSource + ": line " + lineNumber
                        + ": expected two tokens separated by one space, found " + quote(abbreviate(line)));
            }
            String left = line.substring(0, space);
            String right = line.substring(space + 1);
            rules.add(new int[] {
                    idOfMergeToken(left, lineNumber, vocabSource, idsByText),
                    idOfMergeToken(right, lineNumber, vocabSource, idsByText),
                    idOfMergeToken(left + right, lineNumber, vocabSource, idsByText),
                    lineNumber});
        }
        MergeTable table = new MergeTable(rules.size());
        for (int rank = 0; rank < rules.size(); rank++) {
            int[] rule = rules.get(rank);
            if (!table.add(rule[0], rule[1], rank, rule[2])) {
                throw new IllegalArgumentException(vocabSource + ": line " + rule[3] + ": the merge "
                        + quote(lines[rule[3] - 1].strip()) + " appears twice");
            }
        }
        return table;
    }

    private static int idOfMergeToken(String tokenText, int lineNumber, String vocabSource,
                                      Map<String, Integer> idsByText) {
        Integer id = idsByText.get(tokenText);
        if (id == null) {
            throw new IllegalArgumentException(vocabSource + ": line " + lineNumber + ": token "
                    + quote(tokenText) + " is not in the vocabulary (encoder.json)");
        }
        return id;
    }

    private static String abbreviate(String s) {
        return s.length() <= 60 ? s : s.substring(0, 60) + "...";
    }

    private static String quote(String s) {
        StringBuilder out = new StringBuilder("\"");
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x20 || c == 0x7F || Character.isSurrogate(c)) {
                out.append(String.format("\\u%04x", (int) c));
            } else {
                out.append(c);
            }
        }
        return out.append('"').toString();
    }

    // ------------------------------------------------------------------ properties

    /** Number of tokens in the vocabulary, special token included (50257 for GPT-2). */
    public int vocabSize() {
        return bytesByTokenId.length;
    }

    /** The id of {@value #END_OF_TEXT} (50256 for GPT-2). */
    public int endOfTextId() {
        return endOfTextId;
    }

    // ------------------------------------------------------------------ encoding

    /**
     * Encodes plain text. Like tiktoken's {@code encode_ordinary}, special tokens are not
     * recognised: {@value #END_OF_TEXT} inside {@code text} is encoded as the ordinary
     * characters it consists of, never as {@link #endOfTextId()}. Use
     * {@link #encodeWithSpecial(String)} where the marker should become the special token.
     *
     * <p>Unpaired UTF-16 surrogates (which are not Unicode text) are encoded as U+FFFD, the
     * replacement character, as tiktoken does.
     *
     * @return the token ids; {@code decode(encode(s)).equals(s)} for every valid Unicode string
     */
    public int[] encode(String text) {
        IntArrayBuilder out = new IntArrayBuilder(Math.max(16, text.length() / 3));
        encodeOrdinaryInto(text, out);
        return out.toArray();
    }

    /**
     * Encodes text in which each occurrence of {@value #END_OF_TEXT} becomes the special token
     * {@link #endOfTextId()}; the text between occurrences is encoded as by {@link #encode}.
     * (Same as tiktoken's {@code encode(text, allowed_special="all")} for GPT-2.)
     */
    public int[] encodeWithSpecial(String text) {
        IntArrayBuilder out = new IntArrayBuilder(Math.max(16, text.length() / 3));
        int segmentStart = 0;
        int marker;
        while ((marker = text.indexOf(END_OF_TEXT, segmentStart)) >= 0) {
            encodeOrdinaryInto(text.substring(segmentStart, marker), out);
            out.add(endOfTextId);
            segmentStart = marker + END_OF_TEXT.length();
        }
        encodeOrdinaryInto(text.substring(segmentStart), out);
        return out.toArray();
    }

    private void encodeOrdinaryInto(String text, IntArrayBuilder out) {
        Matcher words = PRE_TOKENIZER.matcher(replaceUnpairedSurrogates(text));
        while (words.find()) {
            out.addAll(tokensOfWord(words.group()));
        }
    }

    /** The tokens of one pre-token; the returned array may be shared and must not be modified. */
    private int[] tokensOfWord(String word) {
        int[] cached = tokensByWordCache.get(word);
        if (cached != null) {
            return cached;
        }
        int[] tokens = bytePairEncode(word.getBytes(StandardCharsets.UTF_8));
        if (word.length() <= WORD_CACHE_MAX_WORD_LENGTH) {
            if (tokensByWordCache.size() >= WORD_CACHE_MAX_ENTRIES) {
                // Dropping everything is cruder than LRU but needs no locking or bookkeeping on
                // the hot path; a text whose working set exceeds the bound is rare.
                tokensByWordCache.clear();
            }
            tokensByWordCache.put(word, tokens);
        }
        return tokens;
    }

    /**
     * Applies the merge rules to the bytes of one word.
     *
     * <p>Each round finds the adjacent pair with the lowest-ranked rule and merges all its
     * non-overlapping occurrences left to right, as GPT-2's reference {@code bpe()} does. Words
     * are short in practice; a pathological word of n bytes costs O(n^2), as in GPT-2 and
     * tiktoken.
     */
    private int[] bytePairEncode(byte[] wordBytes) {
        int length = wordBytes.length;
        int[] symbols = new int[length];
        for (int i = 0; i < length; i++) {
            symbols[i] = singleByteTokenIds[wordBytes[i] & 0xFF];
        }
        while (length > 1) {
            int bestRank = MergeTable.NO_MERGE;
            int bestLeft = -1;
            int bestRight = -1;
            for (int i = 0; i + 1 < length; i++) {
                int rank = merges.rank(symbols[i], symbols[i + 1]);
                if (rank < bestRank) {
                    bestRank = rank;
                    bestLeft = symbols[i];
                    bestRight = symbols[i + 1];
                }
            }
            if (bestRank == MergeTable.NO_MERGE) {
                break;
            }
            int mergedId = merges.mergedId(bestLeft, bestRight);
            int written = 0;
            for (int i = 0; i < length; ) {
                if (i + 1 < length && symbols[i] == bestLeft && symbols[i + 1] == bestRight) {
                    symbols[written++] = mergedId;
                    i += 2;
                } else {
                    symbols[written++] = symbols[i++];
                }
            }
            length = written;
        }
        return length == symbols.length ? symbols : Arrays.copyOf(symbols, length);
    }

    /** Returns {@code text} itself unless it contains an unpaired surrogate (the usual case). */
    private static String replaceUnpairedSurrogates(String text) {
        StringBuilder repaired = null;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (!Character.isSurrogate(c)) {
                if (repaired != null) {
                    repaired.append(c);
                }
                continue;
            }
            boolean pairStart = Character.isHighSurrogate(c) && i + 1 < text.length()
                    && Character.isLowSurrogate(text.charAt(i + 1));
            if (pairStart) {
                if (repaired != null) {
                    repaired.append(c).append(text.charAt(i + 1));
                }
                i++;
                continue;
            }
            if (repaired == null) {
                repaired = new StringBuilder(text.length()).append(text, 0, i);
            }
            repaired.append('\uFFFD');
        }
        return repaired == null ? text : repaired.toString();
    }

    // ------------------------------------------------------------------ decoding

    /**
     * The bytes the tokens stand for, concatenated. A single token may hold part of a UTF-8
     * sequence, so use this rather than {@link #decode} on partial output (e.g. while
     * streaming generated tokens).
     *
     * @throws IllegalArgumentException if an id is not in {@code 0..vocabSize()-1}
     */
    public byte[] decodeBytes(int[] ids) {
        int totalLength = 0;
        for (int id : ids) {
            totalLength += bytesOfToken(id).length;
        }
        byte[] out = new byte[totalLength];
        int position = 0;
        for (int id : ids) {
            byte[] tokenBytes = bytesByTokenId[id];
            System.arraycopy(tokenBytes, 0, out, position, tokenBytes.length);
            position += tokenBytes.length;
        }
        return out;
    }

    /**
     * The text the tokens stand for: {@link #decodeBytes} read as UTF-8. Byte sequences that
     * are not valid UTF-8 (possible when the ids do not come from {@link #encode}, e.g. a
     * sequence cut in the middle of a character) become U+FFFD. {@link #endOfTextId()} decodes to
     * {@value #END_OF_TEXT}.
     *
     * @throws IllegalArgumentException if an id is not in {@code 0..vocabSize()-1}
     */
    public String decode(int[] ids) {
        return new String(decodeBytes(ids), StandardCharsets.UTF_8);
    }

    private byte[] bytesOfToken(int id) {
        if (id < 0 || id >= bytesByTokenId.length) {
            throw new IllegalArgumentException("token id " + id + " is not in the vocabulary of size "
                    + bytesByTokenId.length + " (valid ids are 0.." + (bytesByTokenId.length - 1) + ")");
        }
        return bytesByTokenId[id];
    }

    /** A growable int array, to avoid boxing every token id in a List. */
    private static final class IntArrayBuilder {
        private int[] values;
        private int size;

        IntArrayBuilder(int initialCapacity) {
            values = new int[initialCapacity];
        }

        void add(int value) {
            if (size == values.length) {
                values = Arrays.copyOf(values, values.length * 2);
            }
            values[size++] = value;
        }

        void addAll(int[] more) {
            if (size + more.length > values.length) {
                values = Arrays.copyOf(values, Math.max(values.length * 2, size + more.length));
            }
            System.arraycopy(more, 0, values, size, more.length);
            size += more.length;
        }

        int[] toArray() {
            return Arrays.copyOf(values, size);
        }
    }
}
