package io.github.grad4j.experiments.meta;

import io.github.grad4j.autograd.GradCheck;
import io.github.grad4j.backend.DType;
import io.github.grad4j.tensor.Rng;
import io.github.grad4j.tensor.Tensor;
import org.apache.commons.math3.linear.Array2DRowRealMatrix;
import org.apache.commons.math3.linear.LUDecomposition;
import org.apache.commons.math3.linear.RealMatrix;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TpnTest {

    @Test
    void affinityMatchesTheFormulaWithUnitDiagonal() {
        Rng rng = new Rng(1);
        Tensor f = Tensor.randn(rng, 1.0, DType.FLOAT64, 5, 3);
        Tensor sigma = Tensor.uniform(rng, 0.5, 2.0, DType.FLOAT64, 5, 1);
        double[] w = Tpn.affinity(f, sigma).toDoubleArray();
        double[] fv = f.toDoubleArray(), s = sigma.toDoubleArray();
        for (int i = 0; i < 5; i++) {
            for (int j = 0; j < 5; j++) {
                double mean = 0;
                for (int d = 0; d < 3; d++) {
                    double diff = fv[i * 3 + d] / s[i] - fv[j * 3 + d] / s[j];
                    mean += diff * diff / 3;
                }
                assertEquals(Math.exp(-0.5 * mean), w[i * 5 + j], 1e-12, "W[" + i + "][" + j + "]");
            }
            assertEquals(1.0, w[i * 5 + i], 0);
        }
    }

    @Test
    void knnMaskIsTheSymmetricUnionOfRowTopK() {
        // a non-symmetric matrix with distinct entries, so each row's top-2 is unambiguous
        double[] values = new double[36];
        Rng rng = new Rng(2);
        for (int i = 0; i < values.length; i++) values[i] = rng.nextDouble();
        Tensor w = Tensor.of(values, DType.FLOAT64, 6, 6);
        double[] mask = Tpn.knnMask(w, 2).toDoubleArray();
        boolean[][] top = new boolean[6][6];
        for (int i = 0; i < 6; i++) {
            List<Integer> order = new ArrayList<>();
            for (int j = 0; j < 6; j++) order.add(j);
            final int row = i;
            order.sort((a, b) -> Double.compare(values[row * 6 + b], values[row * 6 + a]));
            top[i][order.get(0)] = true;
            top[i][order.get(1)] = true;
        }
        for (int i = 0; i < 6; i++) {
            for (int j = 0; j < 6; j++) {
                assertEquals(mask[i * 6 + j], mask[j * 6 + i], "mask must be symmetric at " + i + "," + j);
                assertEquals(top[i][j] || top[j][i] ? 1.0 : 0.0, mask[i * 6 + j], "mask[" + i + "][" + j + "]");
            }
        }
    }

    @Test
    void normalizationIsSymmetricDegreeScaling() {
        Rng rng = new Rng(3);
        double[] v = new double[16];
        for (int i = 0; i < 4; i++) for (int j = 0; j <= i; j++) v[i * 4 + j] = v[j * 4 + i] = i == j ? 1 : rng.nextDouble();
        double[] s = Tpn.normalize(Tensor.of(v, DType.FLOAT64, 4, 4)).toDoubleArray();
        double[] degree = new double[4];
        for (int i = 0; i < 4; i++) for (int j = 0; j < 4; j++) degree[j] += v[i * 4 + j];
        for (int i = 0; i < 4; i++) {
            for (int j = 0; j < 4; j++) {
                assertEquals(v[i * 4 + j] / Math.sqrt(degree[i] * degree[j]), s[i * 4 + j], 1e-12);
            }
        }
    }

    @Test
    void propagationEqualsExplicitInverse() {
        Rng rng = new Rng(4);
        int n = 7;
        double[] v = new double[n * n];
        for (int i = 0; i < n; i++) for (int j = 0; j <= i; j++) v[i * n + j] = v[j * n + i] = i == j ? 1 : rng.nextDouble();
        Tensor s = Tpn.normalize(Tensor.of(v, DType.FLOAT64, n, n));
        Tensor y = Tpn.initialLabels(new int[]{0, 1, 2, 1}, 3, 3, DType.FLOAT64);
        double alpha = 0.99;
        double[] f = Tpn.propagate(s, y, Tensor.of(new double[]{alpha}, DType.FLOAT64, 1)).toDoubleArray();

        // independent reference: Commons Math's LU inverse of (I - alpha S), times Y
        double[] sv = s.toDoubleArray(), yv = y.toDoubleArray();
        double[][] a = new double[n][n];
        double[][] ym = new double[n][3];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) a[i][j] = (i == j ? 1 : 0) - alpha * sv[i * n + j];
            for (int c = 0; c < 3; c++) ym[i][c] = yv[i * 3 + c];
        }
        RealMatrix expected = new LUDecomposition(new Array2DRowRealMatrix(a)).getSolver().getInverse()
                .multiply(new Array2DRowRealMatrix(ym));
        for (int i = 0; i < n; i++) {
            for (int c = 0; c < 3; c++) assertEquals(expected.getEntry(i, c), f[i * 3 + c], 1e-9, "F[" + i + "][" + c + "]");
        }
        // query rows start at zero but receive label mass through the graph
        assertTrue(f[4 * 3] + f[4 * 3 + 1] + f[4 * 3 + 2] > 0);
    }

    @Test
    void graphPiecesPassGradcheckWithASparseMask() {
        // affinity -> kNN mask (k < n) -> normalize -> propagate -> per-row scores, as functions of
        // features, sigma and alpha; the mask is a constant, so perturbations must not flip it
        // (random features make near-ties at 1e-6 vanishingly unlikely, and the seed is fixed).
        Rng rng = new Rng(5);
        Tensor f = Tensor.randn(rng, 1.0, DType.FLOAT64, 6, 3);
        Tensor sigma = Tensor.uniform(rng, 1.0, 2.0, DType.FLOAT64, 6, 1);
        Tensor alpha = Tensor.of(new double[]{0.9}, DType.FLOAT64, 1);
        Tensor y = Tpn.initialLabels(new int[]{0, 1}, 4, 2, DType.FLOAT64);
        GradCheck.Result r = GradCheck.float64().gradcheck(x -> {
            Tensor w = Tpn.affinity(x[0], x[1]);
            Tensor masked = w.mul(Tpn.knnMask(w, 3));
            return Tpn.propagate(Tpn.normalize(masked), y, x[2]);
        }, new Tensor[]{f, sigma, alpha}, new Rng(6));
        assertTrue(r.passed(), r.toString());
    }

    @Test
    void wholeEpisodeLossPassesGradcheckThroughEverythingIncludingTheSolve() {
        // 2-way 1-shot 1 query, 16x16 images, 2 filters, learned alpha: every parameter of Conv-4, of
        // the graph-construction network and alpha is checked through affinity, normalization,
        // solve and the cross-entropy of support and query rows.
        Conv4 encoder = new Conv4(1, 2, 16, new Rng(7), DType.FLOAT64);
        Tpn tpn = new Tpn(encoder, Tpn.DEFAULT_K, 0.9, true, new Rng(8), DType.FLOAT64);
        Rng rng = new Rng(9);
        EpisodeBatch batch = new EpisodeBatch(Tensor.uniform(rng, 0, 1, DType.FLOAT64, 2, 1, 16, 16), new int[]{0, 1},
                Tensor.uniform(rng, 0, 1, DType.FLOAT64, 2, 1, 16, 16), new int[]{1, 0}, 2);
        Map<String, Tensor> params = tpn.namedParameters();
        List<String> names = new ArrayList<>(params.keySet());
        Tensor[] inputs = new Tensor[names.size()];
        for (int i = 0; i < inputs.length; i++) inputs[i] = params.get(names.get(i)).detach().contiguous();
        GradCheck.Result r = GradCheck.float64().gradcheck(x -> {
            Map<String, Tensor> replacements = new LinkedHashMap<>();
            for (int i = 0; i < x.length; i++) replacements.put(names.get(i), x[i]);
            return tpn.functionalCall(replacements, () -> tpn.forward(batch).loss());
        }, inputs, new Rng(10));
        assertTrue(r.passed(), r.toString());
        assertTrue(names.contains("alpha_logit") && names.contains("graph.11.weight"), names.toString());
    }

    @Test
    void learnedAlphaStaysInsideTheUnitInterval() {
        Tpn tpn = new Tpn(new Conv4(1, 2, 16, new Rng(1), DType.FLOAT64), 20, 0.99, true, new Rng(2), DType.FLOAT64);
        assertEquals(0.99, tpn.alpha(DType.FLOAT64).item(), 1e-12);
        Map<String, Tensor> extreme = Map.of("alpha_logit", Tensor.of(new double[]{10}, DType.FLOAT64, 1));
        double a = tpn.functionalCall(extreme, () -> tpn.alpha(DType.FLOAT64).item());
        assertTrue(a > 0.99 && a < 1.0, "sigmoid keeps alpha below 1: " + a);
    }
}
