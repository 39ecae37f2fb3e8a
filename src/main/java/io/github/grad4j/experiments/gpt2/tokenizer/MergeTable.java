package io.github.grad4j.experiments.gpt2.tokenizer;

/**
 * The BPE merge rules as a hash table from an ordered pair of token ids to the merge's rank and
 * the id of the merged token.
 *
 * <p>The pair is packed into one {@code long} key and stored with open addressing in primitive
 * arrays: the BPE inner loop looks up every adjacent pair after every merge, and this avoids
 * the boxing and string concatenation a {@code Map<String, Integer>} of pair strings would cost.
 * Immutable after construction, hence safe to share between threads.
 */
final class MergeTable {

    /** Returned by {@link #rank} for pairs that have no merge rule. */
    static final int NO_MERGE = Integer.MAX_VALUE;

    private static final long EMPTY_KEY = -1L; // no real key: both ids are non-negative

    private final long[] keys;
    private final int[] ranks;
    private final int[] mergedIds;
    private final int mask;
    private int size;

    /** @param expectedMerges number of rules that will be {@link #add added}; the table never grows. */
    MergeTable(int expectedMerges) {
        int capacity = Integer.highestOneBit(Math.max(4, expectedMerges) * 2 - 1) << 1; // load factor <= 0.5
        keys = new long[capacity];
        java.util.Arrays.fill(keys, EMPTY_KEY);
        ranks = new int[capacity];
        mergedIds = new int[capacity];
        mask = capacity - 1;
    }

    private static long key(int leftId, int rightId) {
        return ((long) leftId << 32) | (rightId & 0xFFFFFFFFL);
    }

    /** Spreads the bits so that consecutive ids do not crowd one region of the table. */
    private int slotFor(long key) {
        long h = key * 0x9E3779B97F4A7C15L;
        return (int) (h ^ (h >>> 29)) & mask;
    }

    /**
     * Adds the rule "left followed by right merges into merged, with this rank".
     *
     * @return false if the pair already had a rule (the table is left unchanged)
     */
    boolean add(int leftId, int rightId, int rank, int mergedId) {
        if (size * 2 >= keys.length) {
            throw new IllegalStateException("MergeTable sized for fewer merges than were added");
        }
        long key = key(leftId, rightId);
        int slot = slotFor(key);
        while (keys[slot] != EMPTY_KEY) {
            if (keys[slot] == key) {
                return false;
            }
            slot = (slot + 1) & mask;
        }
        keys[slot] = key;
        ranks[slot] = rank;
        mergedIds[slot] = mergedId;
        size++;
        return true;
    }

    private int find(int leftId, int rightId) {
        long key = key(leftId, rightId);
        int slot = slotFor(key);
        while (true) {
            long k = keys[slot];
            if (k == key) {
                return slot;
            }
            if (k == EMPTY_KEY) {
                return -1;
            }
            slot = (slot + 1) & mask;
        }
    }

    /** The rank of the pair's merge rule (lower merges first), or {@link #NO_MERGE}. */
    int rank(int leftId, int rightId) {
        int slot = find(leftId, rightId);
        return slot < 0 ? NO_MERGE : ranks[slot];
    }

    /** The id of the token the pair merges into; only meaningful if {@link #rank} is not NO_MERGE. */
    int mergedId(int leftId, int rightId) {
        int slot = find(leftId, rightId);
        return slot < 0 ? -1 : mergedIds[slot];
    }

    int size() {
        return size;
    }
}
