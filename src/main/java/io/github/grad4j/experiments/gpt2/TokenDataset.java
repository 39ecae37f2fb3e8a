package io.github.grad4j.experiments.gpt2;

import io.github.grad4j.experiments.gpt2.tokenizer.Gpt2Tokenizer;
import io.github.grad4j.io.AtomicFiles;
import io.github.grad4j.io.TextFiles;
import io.github.grad4j.tensor.Rng;
import io.github.grad4j.tensor.Tensor;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;

/**
 * A tokenized text corpus for language-model training: any UTF-8 file or folder of files
 * (joined with &lt;|endoftext|&gt;), tokenized once and cached by content hash, split into a
 * training and a validation part, and sampled as batches of random windows.
 */
public final class TokenDataset {
    private final int[] tokens;
    private final String source;

    public TokenDataset(int[] tokens, String source) {
        this.tokens = tokens;
        this.source = source;
    }

    /** The token ids. */
    public int[] tokens() {
        return tokens;
    }

    public int size() {
        return tokens.length;
    }

    public String source() {
        return source;
    }

    /**
     * Reads and tokenizes a text file, or every *.txt file of a folder in name order.
     * {@code cacheDir} (may be null) keeps the token ids keyed by a hash of the text.
     */
    public static TokenDataset load(Path path, Gpt2Tokenizer tokenizer, Path cacheDir) throws IOException {
        List<Path> files = textFiles(path);
        StringBuilder all = new StringBuilder();
        for (int i = 0; i < files.size(); i++) {
            if (i > 0) all.append("<|endoftext|>");
            all.append(TextFiles.readUtf8(files.get(i)));
        }
        String text = all.toString();
        if (text.isBlank()) throw new IOException(path + ": the text is empty");
        return fromText(text, path.toString(), tokenizer, cacheDir);
    }

    /** Tokenizes a text, using the cache folder when given. */
    public static TokenDataset fromText(String text, String source, Gpt2Tokenizer tokenizer, Path cacheDir)
            throws IOException {
        Path cached = cacheDir == null ? null : cacheDir.resolve(hash(text) + ".tokens");
        if (cached != null && Files.isRegularFile(cached)) {
            int[] ids = readTokens(cached);
            if (ids != null) return new TokenDataset(ids, source);
        }
        int[] ids = tokenizer.encodeWithSpecial(text);
        if (cached != null) writeTokens(cached, ids);
        return new TokenDataset(ids, source);
    }

    private static List<Path> textFiles(Path path) throws IOException {
        if (!Files.exists(path)) throw new NoSuchFileException(path + ": no such file or folder");
        if (!Files.isDirectory(path)) return List.of(path);
        List<Path> files = new ArrayList<>();
        try (Stream<Path> s = Files.list(path)) {
            s.filter(p -> Files.isRegularFile(p) && p.getFileName().toString().endsWith(".txt")).sorted().forEach(files::add);
        }
        if (files.isEmpty()) throw new IOException(path + ": folder holds no .txt files");
        return files;
    }

    private static String hash(String text) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            md.update("gpt2-r50k-v1\n".getBytes(StandardCharsets.UTF_8));
            md.update(text.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(md.digest(), 0, 16);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static final int MAGIC = 0x67346A54; // "g4jT"

    private static int[] readTokens(Path file) throws IOException {
        byte[] b = Files.readAllBytes(file);
        if (b.length < 8 || (b.length - 8) % 4 != 0) return null; // a damaged cache is rebuilt, not trusted
        ByteBuffer buf = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        if (buf.getInt() != MAGIC) return null;
        int n = buf.getInt();
        if (n != (b.length - 8) / 4) return null;
        int[] ids = new int[n];
        buf.asIntBuffer().get(ids);
        return ids;
    }

    private static void writeTokens(Path file, int[] ids) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(8 + 4 * ids.length).order(ByteOrder.LITTLE_ENDIAN);
        buf.putInt(MAGIC).putInt(ids.length);
        buf.asIntBuffer().put(ids);
        AtomicFiles.write(file, out -> out.write(buf.array()));
    }

    /** The first part (training) and the last {@code validationFraction} (validation), cut at a token. */
    public TokenDataset[] split(double validationFraction) {
        if (!(validationFraction > 0 && validationFraction < 1)) {
            throw new IllegalArgumentException("validation fraction must be in (0, 1), got " + validationFraction);
        }
        int cut = (int) Math.round(tokens.length * (1 - validationFraction));
        return new TokenDataset[]{
                new TokenDataset(Arrays.copyOfRange(tokens, 0, cut), source + " [train]"),
                new TokenDataset(Arrays.copyOfRange(tokens, cut, tokens.length), source + " [validation]")};
    }

    /** A contiguous part given by fractions of the token count. */
    public TokenDataset slice(double fromFraction, double toFraction) {
        int a = (int) Math.round(tokens.length * fromFraction), b = (int) Math.round(tokens.length * toFraction);
        return new TokenDataset(Arrays.copyOfRange(tokens, a, b), source + " [" + fromFraction + ", " + toFraction + ")");
    }

    /** Inputs and next-token targets, INT32 [batch, context]. */
    public record Batch(Tensor inputs, Tensor targets) {
    }

    /** {@code batch} windows of {@code context + 1} tokens at random offsets drawn from {@code rng}. */
    public Batch sample(Rng rng, int batch, int context) {
        if (tokens.length < context + 1) {
            throw new IllegalArgumentException(source + ": " + tokens.length + " tokens are too few for windows of "
                    + (context + 1) + " tokens; use a smaller context or more text");
        }
        int[] x = new int[batch * context], y = new int[batch * context];
        for (int b = 0; b < batch; b++) {
            int start = rng.nextInt(tokens.length - context);
            System.arraycopy(tokens, start, x, b * context, context);
            System.arraycopy(tokens, start + 1, y, b * context, context);
        }
        return new Batch(Tensor.ofInts(x, batch, context), Tensor.ofInts(y, batch, context));
    }

    /** The deterministic i-th of {@code count} evenly spaced windows (for a fixed validation set). */
    public Batch window(int index, int count, int batch, int context) {
        int span = tokens.length - context - 1;
        if (span < 0) {
            throw new IllegalArgumentException(source + ": " + tokens.length + " tokens are too few for windows of "
                    + (context + 1) + " tokens");
        }
        int[] x = new int[batch * context], y = new int[batch * context];
        for (int b = 0; b < batch; b++) {
            long k = (long) index * batch + b;
            int start = (int) (span * k / Math.max(1, (long) count * batch - 1));
            System.arraycopy(tokens, start, x, b * context, context);
            System.arraycopy(tokens, start + 1, y, b * context, context);
        }
        return new Batch(Tensor.ofInts(x, batch, context), Tensor.ofInts(y, batch, context));
    }
}
