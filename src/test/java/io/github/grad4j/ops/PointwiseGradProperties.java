package io.github.grad4j.ops;

import io.github.grad4j.backend.DType;
import io.github.grad4j.tensor.Rng;
import io.github.grad4j.tensor.Tensor;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * Elementwise ops: gradcheck on broadcasting pairs and strided views, float32 against float64,
 * and gradgradcheck for the ops used in meta-learning inner loops (add, mul, exp, sqrt, relu).
 */
class PointwiseGradProperties {

    @Provide
    Arbitrary<int[][]> pairs() {
        return Shapes.broadcastPairs(4, 120);
    }

    @Provide
    Arbitrary<int[]> shape() {
        return Shapes.shapes(0, 4, 120);
    }

    @Provide
    Arbitrary<Layout> noRepeats() {
        return Arbitraries.of(Layout.WITHOUT_REPEATS);
    }

    private static OpCase binary(String name, int[][] s, Layout la, Layout lb, long seed, Values a, Values b) {
        return OpCase.of(name, seed).input(s[0], la, a).input(s[1], lb, b);
    }

    @Property(tries = 40)
    void add(@ForAll("pairs") int[][] s, @ForAll Layout la, @ForAll Layout lb, @ForAll long seed) {
        binary("add", s, la, lb, seed, Values.normal(), Values.normal()).verifyTwice(x -> x[0].add(x[1]));
    }

    @Property(tries = 40)
    void sub(@ForAll("pairs") int[][] s, @ForAll Layout la, @ForAll Layout lb, @ForAll long seed) {
        binary("sub", s, la, lb, seed, Values.normal(), Values.normal()).verify(x -> x[0].sub(x[1]));
    }

    @Property(tries = 40)
    void mul(@ForAll("pairs") int[][] s, @ForAll Layout la, @ForAll Layout lb, @ForAll long seed) {
        binary("mul", s, la, lb, seed, Values.normal(), Values.normal()).verifyTwice(x -> x[0].mul(x[1]));
    }

    @Property(tries = 40)
    void div(@ForAll("pairs") int[][] s, @ForAll Layout la, @ForAll Layout lb, @ForAll long seed) {
        binary("div", s, la, lb, seed, Values.normal(), Values.magnitude(0.5, 2))
                .verify(x -> x[0].div(x[1]));
    }

    @Property(tries = 40)
    void powTensorExponent(@ForAll("pairs") int[][] s, @ForAll Layout la, @ForAll Layout lb, @ForAll long seed) {
        binary("pow", s, la, lb, seed, Values.uniform(0.5, 2), Values.uniform(-2, 2)).verify(x -> x[0].pow(x[1]));
    }

    @Property(tries = 40)
    void powScalarExponent(@ForAll("shape") int[] s, @ForAll Layout l, @ForAll long seed) {
        double[] exponents = {-1.5, 0.5, 2, 3};
        double c = exponents[new Rng(seed).nextInt(exponents.length)];
        OpCase.of("pow(x, " + c + ")", seed).input(s, l, Values.uniform(0.5, 2)).verify(x -> x[0].pow(c));
    }

    @Property(tries = 40)
    void neg(@ForAll("shape") int[] s, @ForAll Layout l, @ForAll long seed) {
        OpCase.of("neg", seed).input(s, l, Values.normal()).verify(x -> x[0].neg());
    }

    @Property(tries = 40)
    void exp(@ForAll("shape") int[] s, @ForAll Layout l, @ForAll long seed) {
        OpCase.of("exp", seed).input(s, l, Values.normal()).verifyTwice(x -> x[0].exp());
    }

    @Property(tries = 40)
    void log(@ForAll("shape") int[] s, @ForAll Layout l, @ForAll long seed) {
        OpCase.of("log", seed).input(s, l, Values.uniform(0.2, 3)).verify(x -> x[0].log());
    }

    @Property(tries = 40)
    void sqrt(@ForAll("shape") int[] s, @ForAll Layout l, @ForAll long seed) {
        OpCase.of("sqrt", seed).input(s, l, Values.uniform(0.2, 3)).verifyTwice(x -> x[0].sqrt());
    }

    @Property(tries = 40)
    void abs(@ForAll("shape") int[] s, @ForAll Layout l, @ForAll long seed) {
        OpCase.of("abs", seed).input(s, l, Values.awayFrom(0)).verify(x -> x[0].abs());
    }

    @Property(tries = 40)
    void tanh(@ForAll("shape") int[] s, @ForAll Layout l, @ForAll long seed) {
        OpCase.of("tanh", seed).input(s, l, Values.normal()).verify(x -> x[0].tanh());
    }

    @Property(tries = 40)
    void sigmoid(@ForAll("shape") int[] s, @ForAll Layout l, @ForAll long seed) {
        OpCase.of("sigmoid", seed).input(s, l, Values.awayFrom()).verify(x -> x[0].sigmoid());
    }

    @Property(tries = 40)
    void softplus(@ForAll("shape") int[] s, @ForAll Layout l, @ForAll long seed) {
        OpCase.of("softplus", seed).input(s, l, Values.awayFrom()).verify(x -> x[0].softplus());
    }

    @Property(tries = 40)
    void relu(@ForAll("shape") int[] s, @ForAll Layout l, @ForAll long seed) {
        OpCase.of("relu", seed).input(s, l, Values.awayFrom(0)).verifyTwice(x -> x[0].relu());
    }

    /** ReLU's fused backward as a function of the incoming gradient and the input (a mask: zero gradient in x). */
    @Property(tries = 40)
    void reluBackward(@ForAll("shape") int[] s, @ForAll Layout lg, @ForAll Layout lx, @ForAll long seed) {
        OpCase.of("reluBackward", seed).input(s, lg, Values.normal()).input(s, lx, Values.awayFrom(0))
                .verifyTwice(x -> Pointwise.reluBackward(x[0], x[1]));
    }

    @Property(tries = 40)
    void gelu(@ForAll("shape") int[] s, @ForAll Layout l, @ForAll long seed) {
        OpCase.of("gelu", seed).input(s, l, Values.awayFrom()).verify(x -> x[0].gelu());
    }

    @Property(tries = 40)
    void clamp(@ForAll("shape") int[] s, @ForAll Layout l, @ForAll long seed) {
        OpCase.of("clamp", seed).input(s, l, Values.awayFrom(-0.5, 0.8)).verify(x -> x[0].clamp(-0.5, 0.8));
    }

    @Property(tries = 40)
    void maximum(@ForAll("pairs") int[][] s, @ForAll Layout la, @ForAll Layout lb, @ForAll long seed) {
        binary("maximum", s, la, lb, seed, Values.grid(0.05), Values.grid(-0.05)).verify(x -> x[0].maximum(x[1]));
    }

    @Property(tries = 40)
    void minimum(@ForAll("pairs") int[][] s, @ForAll Layout la, @ForAll Layout lb, @ForAll long seed) {
        binary("minimum", s, la, lb, seed, Values.grid(0.05), Values.grid(-0.05)).verify(x -> x[0].minimum(x[1]));
    }

    /** where with a mask broadcast against both branches (the mask itself has no gradient). */
    @Property(tries = 40)
    void where(@ForAll("pairs") int[][] s, @ForAll Layout la, @ForAll Layout lb, @ForAll long seed) {
        OpCase c = binary("where", s, la, lb, seed, Values.normal(), Values.normal());
        int[] full = io.github.grad4j.tensor.Shape.broadcast("test", s[0], s[1]);
        int[] maskShape = Shapes.reduced(full, c.rng());
        Tensor mask = Tensor.of(Values.uniform(0, 1).sample(c.rng(), io.github.grad4j.tensor.Shape.numel(maskShape)),
                DType.FLOAT64, maskShape).gt(0.5);
        c.verify(x -> Pointwise.where(mask, x[0], x[1]));
    }

    @Property(tries = 40)
    void maskedFill(@ForAll("shape") int[] s, @ForAll Layout l, @ForAll long seed) {
        OpCase c = OpCase.of("maskedFill", seed).input(s, l, Values.normal());
        int[] maskShape = Shapes.reduced(s, c.rng());
        int[] bits = new int[io.github.grad4j.tensor.Shape.numel(maskShape)];
        for (int i = 0; i < bits.length; i++) bits[i] = c.rng().nextInt(2);
        Tensor mask = Tensor.ofInts(bits, maskShape);
        c.verify(x -> x[0].maskedFill(mask, -3.5));
    }
}
