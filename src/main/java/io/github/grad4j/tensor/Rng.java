package io.github.grad4j.tensor;

/**
 * A seeded, counter-based random number generator (SplitMix64 of seed and counter). Every draw is
 * a pure function of (seed, position), so results do not depend on threads or backends, and a
 * generator's state is two longs that a checkpoint can store and restore.
 */
public final class Rng {
    private long seed;
    private long counter;

    public Rng(long seed) {
        this.seed = seed;
    }

    /** Restores a generator from {@link #seed()} and {@link #counter()}. */
    public Rng(long seed, long counter) {
        this.seed = seed;
        this.counter = counter;
    }

    public long seed() {
        return seed;
    }

    /** How many 64-bit draws have been taken; with the seed, the whole state. */
    public long counter() {
        return counter;
    }

    /**
     * Rewinds this generator in place to a saved state. Checkpoint loading needs this because the
     * generator object is usually already held elsewhere (a dropout layer, a data sampler).
     */
    public void restore(long seed, long counter) {
        this.seed = seed;
        this.counter = counter;
    }

    /** A new independent generator derived from this one (for a sub-task such as data sampling). */
    public Rng fork() {
        return new Rng(nextLong());
    }

    public long nextLong() {
        return mix(seed + 0x9E3779B97F4A7C15L * (++counter));
    }

    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** Uniform in [0, 1) with 53 random bits. */
    public double nextDouble() {
        return (nextLong() >>> 11) * 0x1.0p-53;
    }

    /** Uniform integer in [0, bound). */
    public int nextInt(int bound) {
        if (bound <= 0) throw new IllegalArgumentException("bound must be positive, got " + bound);
        // Lemire's multiply-shift with rejection: unbiased.
        long m = (nextLong() >>> 32) * bound;
        long low = m & 0xFFFFFFFFL;
        if (low < bound) {
            long threshold = (0x100000000L - bound) % bound;
            while (low < threshold) {
                m = (nextLong() >>> 32) * bound;
                low = m & 0xFFFFFFFFL;
            }
        }
        return (int) (m >>> 32);
    }

    /** Standard normal (Box-Muller; one value per call, the partner is discarded for simplicity). */
    public double nextGaussian() {
        double u1 = nextDouble();
        double u2 = nextDouble();
        if (u1 < 1e-300) u1 = 1e-300;
        return Math.sqrt(-2.0 * Math.log(u1)) * Math.cos(2.0 * Math.PI * u2);
    }

    /** Fisher-Yates shuffle of an int array in place. */
    public void shuffle(int[] a) {
        for (int i = a.length - 1; i > 0; i--) {
            int j = nextInt(i + 1);
            int t = a[i];
            a[i] = a[j];
            a[j] = t;
        }
    }
}
