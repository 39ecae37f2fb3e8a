package io.github.grad4j.golden;

import io.github.grad4j.io.SafeTensors;
import io.github.grad4j.tensor.Backends;
import io.github.grad4j.tensor.Shape;
import io.github.grad4j.tensor.Tensor;

import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Path;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Loading the PyTorch golden files (written by the scripts in test-vectors/) and comparing our
 * tensors with theirs.
 *
 * <p>The error measure is {@code max_i |ours_i - torch_i| / max_i |torch_i|}: the largest
 * difference relative to the tensor's largest magnitude (for a scalar, the plain relative error).
 * Relative to the scale of the tensor rather than to each element, because an element computed
 * as a sum is only accurate to about eps * sum|terms|, which is the size of the tensor's values,
 * not of the element itself when terms cancel (softmax gradients, for instance, sum to zero).
 */
final class Golden {
    private Golden() {
    }

    static SafeTensors.Contents load(String resource) {
        URL url = Golden.class.getResource("/golden/" + resource);
        assertNotNull(url, "golden file /golden/" + resource + " is missing from the test resources "
                + "(regenerate with test-vectors/*.py)");
        try {
            return SafeTensors.read(Path.of(url.toURI()), Backends.defaultBackend());
        } catch (java.io.IOException | URISyntaxException e) {
            throw new AssertionError("cannot read golden file " + resource, e);
        }
    }

    static Tensor get(SafeTensors.Contents c, String name) {
        Tensor t = c.tensors().get(name);
        assertNotNull(t, "golden file has no tensor '" + name + "'; it holds " + c.tensors().keySet());
        return t;
    }

    /** The scaled error defined above; fails if shapes or dtypes differ or the error exceeds tol. */
    static double assertClose(String what, Tensor ours, Tensor torch, double tol) {
        assertArrayEquals(torch.shape(), ours.shape(), what + ": shape " + Shape.str(ours.shape())
                + " vs PyTorch " + Shape.str(torch.shape()));
        assertEquals(torch.dtype(), ours.dtype(), what + ": dtype");
        double[] a = ours.toDoubleArray(), e = torch.toDoubleArray();
        double scale = 0, maxDiff = 0;
        int worst = -1;
        for (int i = 0; i < e.length; i++) {
            if (!Double.isFinite(a[i])) fail(what + ": element " + i + " is " + a[i] + " (PyTorch " + e[i] + ")");
            scale = Math.max(scale, Math.abs(e[i]));
            double d = Math.abs(a[i] - e[i]);
            if (d > maxDiff) {
                maxDiff = d;
                worst = i;
            }
        }
        double err = scale == 0 ? maxDiff : maxDiff / scale;
        System.out.printf("golden %-34s max|diff| %9.2e  scaled error %9.2e  (tol %.0e)%n", what, maxDiff, err, tol);
        if (!(err <= tol)) {
            fail(String.format("%s: scaled error %.3e exceeds %.0e; worst element %d: ours %.17g, PyTorch %.17g%s",
                    what, err, tol, worst, a[worst], e[worst],
                    e.length <= 16 ? "\n ours  " + Arrays.toString(a) + "\n torch " + Arrays.toString(e) : ""));
        }
        return err;
    }
}
