package io.github.grad4j.ops;

import io.github.grad4j.tensor.Rng;
import io.github.grad4j.tensor.Shape;
import io.github.grad4j.tensor.Tensor;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/** Integer indexing and its adjoints (repeated indices included, so gradients must accumulate). */
class IndexingGradProperties {

    @Provide
    Arbitrary<int[]> atLeastRank1() {
        return Shapes.shapes(1, 3, 120);
    }

    private static Tensor indices(Rng r, int bound, int... shape) {
        int[] v = new int[Shape.numel(shape)];
        for (int i = 0; i < v.length; i++) v[i] = r.nextInt(bound);
        return Tensor.ofInts(v, shape);
    }

    @Property(tries = 40)
    void indexSelect(@ForAll("atLeastRank1") int[] s, @ForAll Layout l, @ForAll long seed) {
        OpCase c = OpCase.of("indexSelect", seed).input(s, l, Values.normal());
        int axis = c.rng().nextInt(s.length);
        Tensor index = indices(c.rng(), s[axis], 1 + c.rng().nextInt(7));
        c.verify(x -> x[0].indexSelect(axis, index));
    }

    @Property(tries = 40)
    void embedding(@ForAll Layout l, @ForAll long seed) {
        Rng r = new Rng(seed);
        int vocab = Shapes.DIMS[r.nextInt(5)], width = Shapes.DIMS[r.nextInt(5)];
        Tensor ids = r.nextInt(2) == 0 ? indices(r, vocab, 5) : indices(r, vocab, 2, 3);
        OpCase.of("embedding", seed).input(new int[]{vocab, width}, l, Values.normal())
                .verify(x -> Indexing.embedding(x[0], ids));
    }

    @Property(tries = 40)
    void indexAdd(@ForAll("atLeastRank1") int[] s, @ForAll Layout lb, @ForAll Layout ls, @ForAll long seed) {
        Rng r = new Rng(seed);
        int axis = r.nextInt(s.length);
        Tensor index = indices(r, s[axis], 1 + r.nextInt(7));
        int[] src = s.clone();
        src[axis] = index.size(0);
        OpCase.of("indexAdd on axis " + axis, seed).input(s, lb, Values.normal()).input(src, ls, Values.normal())
                .verify(x -> Indexing.indexAdd(x[0], axis, index, x[1]).square());
    }

    @Property(tries = 40)
    void gather(@ForAll("atLeastRank1") int[] s, @ForAll Layout l, @ForAll long seed) {
        Rng r = new Rng(seed);
        int axis = r.nextInt(s.length);
        int[] is = s.clone();
        is[axis] = 1 + r.nextInt(5);
        Tensor index = indices(r, s[axis], is);
        OpCase.of("gather on axis " + axis, seed).input(s, l, Values.normal()).verify(x -> x[0].gather(axis, index));
    }

    @Property(tries = 40)
    void scatterAdd(@ForAll("atLeastRank1") int[] s, @ForAll Layout lb, @ForAll Layout ls, @ForAll long seed) {
        Rng r = new Rng(seed);
        int axis = r.nextInt(s.length);
        int[] is = s.clone();
        is[axis] = 1 + r.nextInt(5);
        Tensor index = indices(r, s[axis], is);
        OpCase.of("scatterAdd on axis " + axis, seed).input(s, lb, Values.normal()).input(is, ls, Values.normal())
                .verify(x -> Indexing.scatterAdd(x[0], axis, index, x[1]).square());
    }

    /** scatterAdd accumulates repeated indices (checked against a plain loop). */
    @Property(tries = 30)
    void scatterAddAccumulatesRepeats(@ForAll long seed) {
        Rng r = new Rng(seed);
        int rows = 1 + r.nextInt(4), cols = 1 + r.nextInt(4), picks = 1 + r.nextInt(6);
        Tensor index = indices(r, cols, rows, picks);
        Tensor src = Tensor.randn(r, 1, io.github.grad4j.backend.DType.FLOAT64, rows, picks);
        double[] expected = new double[rows * cols];
        int[] idx = index.toIntArray();
        double[] sv = src.toDoubleArray();
        for (int i = 0; i < rows; i++) for (int j = 0; j < picks; j++) expected[i * cols + idx[i * picks + j]] += sv[i * picks + j];
        Tensor out = Indexing.scatterAdd(Tensor.zeros(io.github.grad4j.backend.DType.FLOAT64, rows, cols), 1, index, src);
        org.junit.jupiter.api.Assertions.assertArrayEquals(expected, out.toDoubleArray(), 1e-12);
    }
}
