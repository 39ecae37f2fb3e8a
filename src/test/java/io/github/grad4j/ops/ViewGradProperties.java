package io.github.grad4j.ops;

import io.github.grad4j.autograd.GradCheck;
import io.github.grad4j.backend.DType;
import io.github.grad4j.tensor.Rng;
import io.github.grad4j.tensor.Tensor;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;

import java.util.Arrays;

/** Shape ops (views and copies) on strided inputs: gradcheck and float32 against float64. */
class ViewGradProperties {

    @Provide
    Arbitrary<int[]> shape() {
        return Shapes.shapes(0, 4, 150);
    }

    @Provide
    Arbitrary<int[]> atLeastRank1() {
        return Shapes.shapes(1, 4, 150);
    }

    @Provide
    Arbitrary<int[]> atLeastRank2() {
        return Shapes.shapes(2, 4, 150);
    }

    @Property(tries = 40)
    void concat(@ForAll("atLeastRank1") int[] s, @ForAll Layout l0, @ForAll Layout l1, @ForAll Layout l2,
                @ForAll @IntRange(min = 1, max = 3) int parts, @ForAll long seed) {
        Rng pick = new Rng(seed);
        int axis = pick.nextInt(s.length);
        OpCase c = OpCase.of("concat of " + parts + " on axis " + axis, seed);
        Layout[] layouts = {l0, l1, l2};
        for (int i = 0; i < parts; i++) {
            int[] part = s.clone();
            part[axis] = Shapes.DIMS[pick.nextInt(Shapes.DIMS.length)];
            c.input(part, layouts[i], Values.normal());
        }
        c.verify(x -> Views.concat(axis - (seed % 2 == 0 ? 0 : s.length), x));
    }

    @Property(tries = 40)
    void stack(@ForAll("shape") int[] s, @ForAll Layout l0, @ForAll Layout l1,
               @ForAll @IntRange(min = 1, max = 2) int parts, @ForAll long seed) {
        int axis = new Rng(seed).nextInt(s.length + 1);
        OpCase c = OpCase.of("stack on axis " + axis, seed).input(s, l0, Values.normal());
        if (parts == 2) c.input(s, l1, Values.normal());
        c.verify(x -> Views.stack(axis, x));
    }

    /** split into pieces, recombined in reverse order so every piece's gradient is checked. */
    @Property(tries = 40)
    void split(@ForAll("atLeastRank1") int[] s, @ForAll Layout l, @ForAll long seed) {
        OpCase c = OpCase.of("split", seed).input(s, l, Values.normal());
        Rng r = c.rng();
        int axis = r.nextInt(s.length);
        int first = r.nextInt(s[axis] + 1);
        int[] sizes = {first, s[axis] - first};
        c.verify(x -> {
            Tensor[] pieces = Views.split(x[0], axis, sizes);
            return Views.concat(0, pieces[1].reshape(-1).mul(2.0), pieces[0].reshape(-1));
        });
    }

    @Property(tries = 40)
    void narrow(@ForAll("atLeastRank1") int[] s, @ForAll Layout l, @ForAll long seed) {
        OpCase c = OpCase.of("narrow", seed).input(s, l, Values.normal());
        Rng r = c.rng();
        int axis = r.nextInt(s.length);
        int start = r.nextInt(s[axis]);
        int length = r.nextInt(s[axis] - start + 1);
        c.verify(x -> x[0].narrow(axis, start, length));
    }

    @Property(tries = 40)
    void select(@ForAll("atLeastRank1") int[] s, @ForAll Layout l, @ForAll long seed) {
        OpCase c = OpCase.of("select", seed).input(s, l, Values.normal());
        int axis = c.rng().nextInt(s.length);
        int index = c.rng().nextInt(s[axis]);
        c.verify(x -> x[0].select(axis, index));
    }

    @Property(tries = 40)
    void permute(@ForAll("shape") int[] s, @ForAll Layout l, @ForAll long seed) {
        OpCase c = OpCase.of("permute", seed).input(s, l, Values.normal());
        int[] perm = new int[s.length];
        for (int i = 0; i < perm.length; i++) perm[i] = i;
        c.rng().shuffle(perm);
        c.verify(x -> x[0].permute(perm).mul(x[0].permute(perm).contiguous()));
    }

    @Property(tries = 40)
    void transpose(@ForAll("atLeastRank2") int[] s, @ForAll Layout l, @ForAll long seed) {
        OpCase c = OpCase.of("transpose", seed).input(s, l, Values.normal());
        int a = c.rng().nextInt(s.length), b = c.rng().nextInt(s.length);
        c.verify(x -> x[0].transpose(a, b));
    }

    @Property(tries = 40)
    void reshape(@ForAll("shape") int[] s, @ForAll Layout l, @ForAll long seed) {
        OpCase c = OpCase.of("reshape", seed).input(s, l, Values.normal());
        int[] target = Shapes.regrouped(s, c.rng());
        // a nonlinearity after the reshape makes the check sensitive to which element went where
        c.verify(x -> x[0].reshape(target).mul(Tensor.arange(target[target.length - 1], DType.FLOAT64)
                .toDType(x[0].dtype())).square());
    }

    @Property(tries = 40)
    void expand(@ForAll("shape") int[] s, @ForAll Layout l, @ForAll long seed) {
        OpCase c = OpCase.of("expand", seed);
        int[] small = Shapes.reduced(s, c.rng());
        c.input(small, l, Values.normal());
        c.verify(x -> x[0].expand(s).mul(x[0].expand(s).contiguous()));
    }

    @Property(tries = 40)
    void squeezeUnsqueeze(@ForAll("shape") int[] s, @ForAll Layout l, @ForAll long seed) {
        OpCase c = OpCase.of("unsqueeze/squeeze", seed).input(s, l, Values.normal());
        int axis = c.rng().nextInt(s.length + 1);
        c.verify(x -> {
            Tensor u = x[0].unsqueeze(axis);
            return Views.concat(0, u.reshape(-1), u.squeeze(axis).square().reshape(-1));
        });
    }

    @Property(tries = 40)
    void contiguous(@ForAll("shape") int[] s, @ForAll Layout l, @ForAll long seed) {
        OpCase.of("contiguous", seed).input(s, l, Values.normal()).verify(x -> x[0].contiguous().square());
    }

    /**
     * cast to float32 and back: rounding to float32 breaks a 1e-6 difference step, so this check
     * uses a step of 1e-2 on a quadratic (whose central difference is exact).
     */
    @Property(tries = 40)
    void cast(@ForAll("shape") int[] s, @ForAll Layout l, @ForAll long seed) {
        OpCase.of("cast", seed).withGradCheck(new GradCheck(1e-2, 1e-4, 1e-4)).input(s, l, Values.normal())
                .verify(x -> {
                    DType other = x[0].dtype() == DType.FLOAT64 ? DType.FLOAT32 : DType.FLOAT64;
                    return x[0].toDType(other).square().toDType(x[0].dtype());
                });
    }

    /** Guards the generator: regrouping keeps the element count. */
    @Property(tries = 30)
    void regroupedKeepsNumel(@ForAll("shape") int[] s, @ForAll long seed) {
        int[] t = Shapes.regrouped(s, new Rng(seed));
        org.junit.jupiter.api.Assertions.assertEquals(io.github.grad4j.tensor.Shape.numel(s),
                io.github.grad4j.tensor.Shape.numel(t), Arrays.toString(s) + " -> " + Arrays.toString(t));
    }
}
