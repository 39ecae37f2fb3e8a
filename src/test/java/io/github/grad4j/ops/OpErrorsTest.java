package io.github.grad4j.ops;

import io.github.grad4j.backend.DType;
import io.github.grad4j.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Bad arguments fail with an exception whose message names the op and the shapes involved. */
class OpErrorsTest {

    private static Tensor zeros(int... shape) {
        return Tensor.zeros(DType.FLOAT64, shape);
    }

    private static void assertMessage(Class<? extends RuntimeException> type, Executable call, String... parts) {
        RuntimeException e = assertThrows(type, call);
        for (String p : parts) assertTrue(e.getMessage().contains(p), "'" + e.getMessage() + "' should mention " + p);
    }

    @Test
    void matmulInnerDimensionMismatch() {
        assertMessage(IllegalArgumentException.class, () -> zeros(2, 3).matmul(zeros(4, 5)), "matmul", "[2, 3]", "[4, 5]");
    }

    @Test
    void broadcastMismatch() {
        assertMessage(IllegalArgumentException.class, () -> zeros(2, 3).add(zeros(4, 3)), "add", "[2, 3]", "[4, 3]");
        assertMessage(IllegalArgumentException.class, () -> zeros(2, 3).mul(zeros(2)), "mul", "[2, 3]", "[2]");
    }

    @Test
    void reshapeToAnotherElementCount() {
        assertMessage(IllegalArgumentException.class, () -> zeros(2, 3).reshape(4, 2), "reshape", "[2, 3]", "[4, 2]");
        assertMessage(IllegalArgumentException.class, () -> zeros(2, 3).reshape(-1, 4), "reshape", "[2, 3]");
    }

    @Test
    void conv2dChannelMismatch() {
        assertMessage(IllegalArgumentException.class, () -> zeros(1, 3, 5, 5).conv2d(zeros(2, 4, 3, 3), null, 1, 0),
                "conv2d", "[1, 3, 5, 5]", "[2, 4, 3, 3]");
    }

    /** A zero stride used to fail with a bare "/ by zero" before the argument check ran. */
    @Test
    void conv2dAndPoolingRejectNonPositiveStride() {
        assertMessage(IllegalArgumentException.class, () -> zeros(1, 1, 5, 5).conv2d(zeros(1, 1, 3, 3), null, 0, 0),
                "conv2d", "stride 0");
        assertMessage(IllegalArgumentException.class, () -> Convolution.maxPool2d(zeros(1, 1, 5, 5), 2, 0, 0),
                "maxPool2d", "stride 0");
    }

    @Test
    void crossEntropyTargetOutOfRange() {
        assertMessage(IndexOutOfBoundsException.class,
                () -> Functional.crossEntropy(zeros(2, 3), Tensor.ofInts(new int[]{1, -1}, 2)), "crossEntropy", "-1");
        assertMessage(IllegalArgumentException.class,
                () -> Functional.crossEntropy(zeros(2, 3), Tensor.ofInts(new int[]{1, 0, 2}, 3)), "crossEntropy", "[3]", "[2, 3]");
    }

    @Test
    void indexOutOfRange() {
        Tensor idx = Tensor.ofInts(new int[]{0, 3}, 2);
        assertMessage(IndexOutOfBoundsException.class, () -> zeros(3, 2).indexSelect(0, idx), "indexSelect", "3");
        assertMessage(IndexOutOfBoundsException.class, () -> zeros(2, 3).gather(1, Tensor.ofInts(new int[]{0, 3}, 2, 1)),
                "gather", "3");
    }

    /**
     * indexAdd did not check its indices: one past the end of an axis silently added into the next
     * row of the storage (or failed deep in the kernel).
     */
    @Test
    void indexAddChecksIndexRangeAndRank() {
        assertMessage(IndexOutOfBoundsException.class,
                () -> Indexing.indexAdd(zeros(2, 3), 1, Tensor.ofInts(new int[]{3}, 1), zeros(2, 1)), "indexAdd", "3");
        assertMessage(IndexOutOfBoundsException.class,
                () -> Indexing.indexAdd(zeros(2, 3), 0, Tensor.ofInts(new int[]{-1}, 1), zeros(1, 3)), "indexAdd", "-1");
        assertMessage(IllegalArgumentException.class,
                () -> Indexing.indexAdd(zeros(2, 3), 0, Tensor.ofInts(new int[]{0, 1}, 1, 2), zeros(2, 3)), "indexAdd");
    }

    @Test
    void layerNormShapeMismatch() {
        assertMessage(IllegalArgumentException.class,
                () -> Functional.layerNorm(zeros(2, 3), new int[]{4}, null, null, 1e-5), "layerNorm", "[4]", "[2, 3]");
        // more normalized axes than the input has
        assertMessage(IllegalArgumentException.class,
                () -> Functional.layerNorm(zeros(3), new int[]{2, 3}, null, null, 1e-5), "layerNorm", "[2, 3]", "[3]");
    }
}
