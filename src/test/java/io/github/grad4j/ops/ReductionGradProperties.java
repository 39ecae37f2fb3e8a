package io.github.grad4j.ops;

import io.github.grad4j.tensor.Rng;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Assume;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/** Reductions over arbitrary axis sets, with and without kept axes, on strided inputs. */
class ReductionGradProperties {

    @Provide
    Arbitrary<int[]> shape() {
        return Shapes.shapes(0, 4, 150);
    }

    @Provide
    Arbitrary<int[]> atLeastRank1() {
        return Shapes.shapes(1, 4, 150);
    }

    @Provide
    Arbitrary<Layout> noRepeats() {
        return Arbitraries.of(Layout.WITHOUT_REPEATS);
    }

    /** An axis set, or none (meaning all axes) one time in four. */
    private static int[] axes(int[] shape, Rng rng) {
        return rng.nextInt(4) == 0 ? new int[0] : Shapes.axisSubset(shape.length, rng);
    }

    @Property(tries = 40)
    void sum(@ForAll("shape") int[] s, @ForAll Layout l, @ForAll boolean keepDim, @ForAll long seed) {
        OpCase c = OpCase.of("sum keepDim=" + keepDim, seed).input(s, l, Values.normal());
        int[] axes = axes(s, c.rng());
        c.verifyTwice(x -> x[0].sum(keepDim, axes));
    }

    @Property(tries = 40)
    void mean(@ForAll("shape") int[] s, @ForAll Layout l, @ForAll boolean keepDim, @ForAll long seed) {
        OpCase c = OpCase.of("mean keepDim=" + keepDim, seed).input(s, l, Values.normal());
        int[] axes = axes(s, c.rng());
        c.verifyTwice(x -> x[0].mean(keepDim, axes));
    }

    @Property(tries = 40)
    void var(@ForAll("shape") int[] s, @ForAll Layout l, @ForAll boolean keepDim, @ForAll boolean unbiased,
             @ForAll long seed) {
        OpCase c = OpCase.of("var unbiased=" + unbiased + " keepDim=" + keepDim, seed).input(s, l, Values.normal());
        int[] axes = axes(s, c.rng());
        // an unbiased variance of one value is 0/0
        Assume.that(!unbiased || Shapes.reducedCount(s, axes) > 1);
        c.verify(x -> x[0].var(unbiased, keepDim, axes));
    }

    @Property(tries = 40)
    void max(@ForAll("atLeastRank1") int[] s, @ForAll("noRepeats") Layout l, @ForAll boolean keepDim,
             @ForAll long seed) {
        OpCase c = OpCase.of("max keepDim=" + keepDim, seed).input(s, l, Values.distinct());
        int axis = c.rng().nextInt(s.length) - (seed % 2 == 0 ? 0 : s.length);
        c.verify(x -> x[0].max(axis, keepDim));
    }

    @Property(tries = 40)
    void min(@ForAll("atLeastRank1") int[] s, @ForAll("noRepeats") Layout l, @ForAll boolean keepDim,
             @ForAll long seed) {
        OpCase c = OpCase.of("min keepDim=" + keepDim, seed).input(s, l, Values.distinct());
        int axis = c.rng().nextInt(s.length);
        c.verify(x -> x[0].min(axis, keepDim));
    }

    @Property(tries = 40)
    void logsumexp(@ForAll("atLeastRank1") int[] s, @ForAll Layout l, @ForAll boolean keepDim, @ForAll long seed) {
        OpCase c = OpCase.of("logsumexp keepDim=" + keepDim, seed).input(s, l, Values.normal());
        int axis = c.rng().nextInt(s.length);
        c.verify(x -> x[0].logsumexp(axis, keepDim));
    }
}
