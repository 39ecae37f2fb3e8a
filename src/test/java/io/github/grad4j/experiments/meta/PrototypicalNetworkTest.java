package io.github.grad4j.experiments.meta;

import io.github.grad4j.backend.DType;
import io.github.grad4j.ops.Functional;
import io.github.grad4j.tensor.Rng;
import io.github.grad4j.tensor.Tensor;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class PrototypicalNetworkTest {

    /** Imbalanced support: 3 images of class 0, 1 of class 1, 2 of class 2, in mixed order. */
    private static final int[] SUPPORT_LABELS = {0, 2, 0, 1, 2, 0};

    @Test
    void prototypesAreClassMeansWithPerClassCounts() {
        Tensor emb = Tensor.randn(new Rng(1), 1.0, DType.FLOAT64, 6, 4);
        double[] e = emb.toDoubleArray();
        double[] p = PrototypicalNetwork.prototypes(emb, SUPPORT_LABELS, 3).toDoubleArray();
        int[] counts = {3, 1, 2};
        for (int c = 0; c < 3; c++) {
            for (int d = 0; d < 4; d++) {
                double sum = 0;
                for (int i = 0; i < 6; i++) if (SUPPORT_LABELS[i] == c) sum += e[i * 4 + d];
                assertEquals(sum / counts[c], p[c * 4 + d], 1e-12, "class " + c + " dim " + d);
            }
        }
    }

    @Test
    void lossEqualsDirectComputation() {
        Rng rng = new Rng(2);
        Tensor support = Tensor.randn(rng, 1.0, DType.FLOAT64, 6, 5);
        Tensor query = Tensor.randn(rng, 1.0, DType.FLOAT64, 4, 5);
        int[] queryLabels = {2, 0, 1, 1};
        Tensor prototypes = PrototypicalNetwork.prototypes(support, SUPPORT_LABELS, 3);
        Tensor logits = PrototypicalNetwork.negativeSquaredDistances(query, prototypes);
        double loss = Functional.crossEntropy(logits, Tensor.ofInts(queryLabels, 4)).item();

        double[] s = support.toDoubleArray(), q = query.toDoubleArray();
        double expected = 0;
        for (int i = 0; i < 4; i++) {
            double[] z = new double[3];
            for (int c = 0; c < 3; c++) {
                int count = 0;
                double[] mean = new double[5];
                for (int j = 0; j < 6; j++) {
                    if (SUPPORT_LABELS[j] != c) continue;
                    count++;
                    for (int d = 0; d < 5; d++) mean[d] += s[j * 5 + d];
                }
                for (int d = 0; d < 5; d++) {
                    double diff = q[i * 5 + d] - mean[d] / count;
                    z[c] -= diff * diff;
                }
            }
            double max = Math.max(z[0], Math.max(z[1], z[2]));
            double logSum = max + Math.log(Math.exp(z[0] - max) + Math.exp(z[1] - max) + Math.exp(z[2] - max));
            expected += (logSum - z[queryLabels[i]]) / 4;
        }
        assertEquals(expected, loss, 1e-10);
    }

    @Test
    void episodeForwardOnImagesGivesLossAndAccuracy() {
        Conv4 encoder = new Conv4(1, 4, 16, new Rng(3), DType.FLOAT64);
        PrototypicalNetwork net = new PrototypicalNetwork(encoder);
        Rng rng = new Rng(4);
        EpisodeBatch batch = new EpisodeBatch(Tensor.randn(rng, 1, DType.FLOAT64, 6, 1, 16, 16), SUPPORT_LABELS,
                Tensor.randn(rng, 1, DType.FLOAT64, 3, 1, 16, 16), new int[]{0, 1, 2}, 3);
        EpisodeResult r = net.forward(batch);
        assertEquals(3, r.predictions().length);
        assertEquals(0, r.loss().dim());
        double correct = 0;
        for (int i = 0; i < 3; i++) if (r.predictions()[i] == i) correct++;
        assertEquals(correct / 3, r.accuracy(), 0);
    }

    @Test
    void missingClassInSupportIsAnError() {
        Tensor emb = Tensor.zeros(DType.FLOAT64, 2, 3);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> PrototypicalNetwork.prototypes(emb, new int[]{0, 0}, 2));
        assertEquals("prototypes: class 1 has no support embedding", e.getMessage());
    }
}
