package io.github.grad4j.ops;

import io.github.grad4j.tensor.Rng;

/**
 * Input value distributions. Ops with a kink (relu, abs, clamp, max) get values kept well away
 * from it (much further than the finite-difference step 1e-6), so central differences are valid;
 * smooth ops get plain normal values.
 */
@FunctionalInterface
interface Values {
    double[] sample(Rng rng, int n);

    static Values normal() {
        return (rng, n) -> {
            double[] v = new double[n];
            for (int i = 0; i < n; i++) v[i] = rng.nextGaussian();
            return v;
        };
    }

    static Values uniform(double low, double high) {
        return (rng, n) -> {
            double[] v = new double[n];
            for (int i = 0; i < n; i++) v[i] = low + (high - low) * rng.nextDouble();
            return v;
        };
    }

    /** Random sign times a magnitude uniform in [low, high) (denominators kept off zero). */
    static Values magnitude(double low, double high) {
        return (rng, n) -> {
            double[] v = uniform(low, high).sample(rng, n);
            for (int i = 0; i < n; i++) if (rng.nextInt(2) == 0) v[i] = -v[i];
            return v;
        };
    }

    /** Normal values at least 0.05 away from every kink. */
    static Values awayFrom(double... kinks) {
        return (rng, n) -> {
            double[] v = new double[n];
            for (int i = 0; i < n; i++) {
                double x;
                do {
                    x = 1.5 * rng.nextGaussian();
                } while (near(x, kinks));
                v[i] = x;
            }
            return v;
        };
    }

    private static boolean near(double x, double[] kinks) {
        for (double k : kinks) if (Math.abs(x - k) < 0.05) return true;
        return false;
    }

    /** Pairwise distinct values (at least 0.02 apart) in random order, so max/argmax are unique. */
    static Values distinct() {
        return (rng, n) -> {
            int[] perm = new int[n];
            for (int i = 0; i < n; i++) perm[i] = i;
            rng.shuffle(perm);
            double spacing = Math.max(0.02, Math.min(0.25, 6.0 / Math.max(n, 1)));
            double[] v = new double[n];
            for (int i = 0; i < n; i++) v[i] = (perm[i] - n / 2.0) * spacing + 0.25 * spacing * rng.nextDouble();
            return v;
        };
    }

    /**
     * Values on the grid 0.2 k + offset. Two tensors drawn with offsets 0.05 and -0.05 never tie:
     * any of their elements differ by at least 0.1 (for maximum/minimum).
     */
    static Values grid(double offset) {
        return (rng, n) -> {
            double[] v = new double[n];
            for (int i = 0; i < n; i++) v[i] = Math.round(5 * rng.nextGaussian()) / 5.0 + offset;
            return v;
        };
    }
}
