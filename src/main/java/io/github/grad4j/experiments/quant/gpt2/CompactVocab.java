package io.github.grad4j.experiments.quant.gpt2;

import io.github.grad4j.io.AtomicFiles;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A smaller vocabulary for the small GPT-2 these experiments train themselves: the {@code k} most
 * frequent GPT-2 token ids of some corpora keep their own compact id (0..k-1, by falling
 * frequency), every other id maps to one shared "unknown" id k. The softmax over 50257 tokens
 * would otherwise cost more than the whole transformer at this scale. Perplexities under a compact
 * vocabulary are only comparable with each other, not with full-vocabulary GPT-2 numbers.
 */
public final class CompactVocab {
    /** The file a model folder keeps the mapping in: one original GPT-2 id per line, in compact order. */
    public static final String FILE_NAME = "compact_vocab.txt";

    private final int[] originalIds;
    private final int[] toCompact;

    private CompactVocab(int[] originalIds) {
        this.originalIds = originalIds.clone();
        int max = 0;
        for (int id : originalIds) max = Math.max(max, id);
        this.toCompact = new int[max + 1];
        Arrays.fill(toCompact, -1);
        for (int i = 0; i < originalIds.length; i++) {
            if (toCompact[originalIds[i]] >= 0) throw new IllegalArgumentException("compact vocabulary: id " + originalIds[i] + " listed twice");
            toCompact[originalIds[i]] = i;
        }
    }

    /** The {@code k} most frequent ids over all corpora (ties: smaller id first). */
    public static CompactVocab mostFrequent(List<int[]> corpora, int k) {
        if (k < 1) throw new IllegalArgumentException("compact vocabulary size must be >= 1, got " + k);
        int max = 0;
        for (int[] c : corpora) for (int id : c) max = Math.max(max, id);
        long[] counts = new long[max + 1];
        for (int[] c : corpora) for (int id : c) counts[id]++;
        List<Integer> ids = new ArrayList<>();
        for (int id = 0; id <= max; id++) if (counts[id] > 0) ids.add(id);
        ids.sort((a, b) -> counts[a] != counts[b] ? Long.compare(counts[b], counts[a]) : Integer.compare(a, b));
        return new CompactVocab(ids.subList(0, Math.min(k, ids.size())).stream().mapToInt(Integer::intValue).toArray());
    }

    /** Kept ids plus the unknown id. */
    public int size() {
        return originalIds.length + 1;
    }

    /** The id every dropped token maps to. */
    public int unknownId() {
        return originalIds.length;
    }

    /** Compact ids of GPT-2 ids. */
    public int[] map(int[] ids) {
        int[] out = new int[ids.length];
        for (int i = 0; i < ids.length; i++) {
            int id = ids[i];
            int c = id >= 0 && id < toCompact.length ? toCompact[id] : -1;
            out[i] = c >= 0 ? c : unknownId();
        }
        return out;
    }

    /** The fraction of {@code ids} that map to the unknown id. */
    public double unknownRate(int[] ids) {
        long unknown = Arrays.stream(map(ids)).filter(c -> c == unknownId()).count();
        return ids.length == 0 ? 0 : (double) unknown / ids.length;
    }

    public void save(Path dir) throws IOException {
        StringBuilder sb = new StringBuilder();
        for (int id : originalIds) sb.append(id).append('\n');
        AtomicFiles.write(dir.resolve(FILE_NAME), out -> out.write(sb.toString().getBytes(StandardCharsets.UTF_8)));
    }

    /** The mapping saved in {@code dir}, or null when the folder has none (a full-vocabulary model). */
    public static CompactVocab loadIfPresent(Path dir) throws IOException {
        Path f = dir.resolve(FILE_NAME);
        if (!Files.isRegularFile(f)) return null;
        List<String> lines = Files.readAllLines(f, StandardCharsets.UTF_8);
        int[] ids = new int[lines.size()];
        for (int i = 0; i < ids.length; i++) {
            try {
                ids[i] = Integer.parseInt(lines.get(i).trim());
            } catch (NumberFormatException e) {
                throw new IOException(f + ": line " + (i + 1) + " is not a token id: '" + lines.get(i) + "'");
            }
        }
        return new CompactVocab(ids);
    }
}
