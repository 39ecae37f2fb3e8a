package io.github.grad4j.experiments.gpt2;

import io.github.grad4j.tensor.Tensor;

/**
 * The keys and values every layer has computed for the tokens seen so far, so that generating one
 * more token costs one position's work instead of a pass over the whole sequence. Made by
 * {@link Gpt2Model#newCache(int)} and filled by {@link Gpt2Model#logits(Tensor, KvCache)}; it holds
 * at most the model's context length of positions. Use it under {@code GradMode.noGrad()}, as
 * {@link Gpt2Generator} does: with recording on, the cached keys keep every step's graph alive.
 */
public final class KvCache {
    private final int batchSize;
    private final int capacity;
    private final Tensor[] keys;
    private final Tensor[] values;
    private int length;

    KvCache(int layers, int batchSize, int capacity) {
        if (batchSize <= 0) throw new IllegalArgumentException("KvCache: batch size must be positive, got " + batchSize);
        this.batchSize = batchSize;
        this.capacity = capacity;
        this.keys = new Tensor[layers];
        this.values = new Tensor[layers];
    }

    /** Positions cached so far (the position of the next token fed). */
    public int length() {
        return length;
    }

    public int batchSize() {
        return batchSize;
    }

    /** The most positions the cache can hold: the model's context length. */
    public int capacity() {
        return capacity;
    }

    /** Forgets every cached position. */
    public void reset() {
        java.util.Arrays.fill(keys, null);
        java.util.Arrays.fill(values, null);
        length = 0;
    }

    /** Keys [B, heads, length, headSize] of a layer, or null when empty. */
    Tensor keys(int layer) {
        return keys[layer];
    }

    Tensor values(int layer) {
        return values[layer];
    }

    void store(int layer, Tensor k, Tensor v) {
        keys[layer] = k;
        values[layer] = v;
    }

    /** Called once per forward pass, after every layer has stored its keys and values. */
    void advance(int positions) {
        length += positions;
    }
}
