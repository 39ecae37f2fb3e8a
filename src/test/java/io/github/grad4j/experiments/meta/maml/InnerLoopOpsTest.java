package io.github.grad4j.experiments.meta.maml;

import io.github.grad4j.autograd.GradCheck;
import io.github.grad4j.autograd.GradMode;
import io.github.grad4j.backend.DType;
import io.github.grad4j.ops.Functional;
import io.github.grad4j.ops.Indexing;
import io.github.grad4j.tensor.Rng;
import io.github.grad4j.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Second derivatives of the ops inside the inner loop that the core tests do not already cover
 * (conv2d, max-pool, matmul, tanh and softmax are in QuickSanityTest), and the learner's
 * bookkeeping: which tensors are meta-parameters, what the balancing switches change.
 */
class InnerLoopOpsTest {

    @Test
    void batchNormWithBatchStatisticsThenReluIsTwiceDifferentiable() {
        Rng rng = new Rng(3);
        Tensor x = Tensor.randn(rng, 1, DType.FLOAT64, 3, 2, 2, 2);
        Tensor w = Tensor.randn(rng, 1, DType.FLOAT64, 2);
        Tensor b = Tensor.randn(rng, 1, DType.FLOAT64, 2);
        var r = GradCheck.float64().gradgradcheck(
                t -> Functional.batchNorm(t[0], null, null, t[1], t[2], true, 0.1, 1e-5).relu(), new Tensor[]{x, w, b}, rng);
        assertTrue(r.passed(), r.toString());
    }

    @Test
    void omegaWeightedPerClassCrossEntropyIsTwiceDifferentiable() {
        Rng rng = new Rng(4);
        Tensor labels = Tensor.ofInts(new int[]{0, 1, 1, 2, 2, 2}, 6);
        Tensor logits = Tensor.randn(rng, 1, DType.FLOAT64, 6, 3);
        Tensor omega = Tensor.randn(rng, 1, DType.FLOAT64, 3);
        Tensor gamma = Tensor.randn(rng, 0.5, DType.FLOAT64, 1);
        var r = GradCheck.float64().gradgradcheck(t -> {
            Tensor losses = Functional.crossEntropy(t[0], labels, Integer.MIN_VALUE, Functional.Reduction.NONE);
            Tensor perClass = Indexing.oneHot(labels, 3, DType.FLOAT64).mT().matmul(losses.reshape(-1, 1)).reshape(3);
            // softplus and exp: the inference heads' sigma and the gamma step scale
            return perClass.mul(t[1].softmax(0)).sum().mul(t[2].exp()).add(t[2].softplus().sum());
        }, new Tensor[]{logits, omega, gamma}, rng);
        assertTrue(r.passed(), r.toString());
    }

    @Test
    void metaParametersFollowTheMethod() {
        Rng rng = new Rng(1);
        BaseNetwork net = BaseNetwork.conv4(1, 16, 3, 2, rng, DType.FLOAT64);
        MetaLearner maml = new MetaLearner(net, MetaLearnerConfig.maml(0.5, 3), rng, DType.FLOAT64);
        Map<String, Tensor> mp = maml.metaParameters();
        // the zero-started head is not meta-learned; batch-norm affine parameters are
        assertTrue(mp.keySet().stream().noneMatch(n -> n.startsWith("theta.17.")), mp.keySet().toString());
        assertTrue(mp.containsKey("theta.1.weight"));
        assertTrue(mp.keySet().stream().allMatch(n -> n.startsWith("theta.")));

        MetaLearner msgd = new MetaLearner(net, MetaLearnerConfig.metaSgd(3), rng, DType.FLOAT64);
        Tensor headAlpha = msgd.metaParameters().get("alpha.17.weight");
        assertArrayEquals(new int[]{1, 3}, headAlpha.shape(), "head step sizes are shared across classes");
        assertArrayEquals(net.network().namedParameters().get("0.weight").shape(), msgd.metaParameters().get("alpha.0.weight").shape());
        assertEquals(0.01, msgd.metaParameters().get("alpha.0.weight").toDoubleArray()[5], 0);

        MetaLearner btaml = new MetaLearner(net, MetaLearnerConfig.bayesianTaml(3), rng, DType.FLOAT64);
        assertTrue(btaml.metaParameters().keySet().stream().anyMatch(n -> n.startsWith("inference.")));
    }

    @Test
    void balancingSwitchesDecideWhichVariablesExist() {
        Rng rng = new Rng(2);
        BaseNetwork net = BaseNetwork.conv4(1, 16, 2, 2, rng, DType.FLOAT64);
        Task task = MetaGradientTest.randomTask(rng, 2, new int[]{1, 3}, 2, 1, 16);
        MetaLearner onlyGamma = new MetaLearner(net, MetaLearnerConfig.bayesianTaml(3).withBalancing(false, true, false),
                rng, DType.FLOAT64);
        MetaLearner.Balancing b = onlyGamma.balancing(task, new Rng(5));
        assertNull(b.omega());
        assertNull(b.z());
        assertEquals(5, b.gamma().numel(), "one gamma per adapted layer: 4 convolutions and the head");
        MetaLearner all = new MetaLearner(net, MetaLearnerConfig.bayesianTaml(3), rng, DType.FLOAT64);
        MetaLearner.Balancing full = all.balancing(task, new Rng(5));
        assertEquals(2, full.omega().numel());
        assertEquals(2 * 4 * 2, full.z().numel(), "weight and bias modulation per channel of 4 conv layers");
        // the prior's KL is positive for the initial posterior N(~0, softplus(0)^2)
        assertTrue(full.kl().item() > 0);
        // a sample differs from the mean; the same seed gives the same sample
        MetaLearner.Balancing mean = all.balancing(task, null);
        assertNotEquals(mean.gamma().toDoubleArray()[0], full.gamma().toDoubleArray()[0]);
        assertArrayEquals(full.z().toDoubleArray(), all.balancing(task, new Rng(5)).z().toDoubleArray(), 0);
    }

    @Test
    void zeroHeadStartsEveryTaskAtZeroAndTheFirstStepMovesOnlyTheHead() {
        Rng rng = new Rng(6);
        BaseNetwork net = BaseNetwork.conv4(1, 16, 2, 3, rng, DType.FLOAT64);
        Task task = MetaGradientTest.randomTask(rng, 3, new int[]{2, 2, 2}, 1, 1, 16);
        MetaLearner maml = new MetaLearner(net, MetaLearnerConfig.maml(0.5, 3), rng, DType.FLOAT64);
        Map<String, Tensor> start = maml.initialWeights(MetaLearner.Balancing.NONE);
        for (double v : start.get("17.weight").toDoubleArray()) assertEquals(0.0, v, 0);
        Map<String, Tensor> one;
        try (GradMode.Scope ignored = GradMode.enableGrad()) {
            one = maml.adapt(task, MetaLearner.Balancing.NONE, 1, false);
        }
        // with a zero head the features receive no gradient in the first step
        assertArrayEquals(start.get("0.weight").toDoubleArray(), one.get("0.weight").toDoubleArray(), 0);
        assertTrue(one.get("17.weight").toDoubleArray()[0] != 0.0);
    }

    @Test
    void taskRejectsMismatchedLabels() {
        Tensor x = Tensor.zeros(DType.FLOAT64, 2, 1, 4, 4);
        assertThrows(IllegalArgumentException.class,
                () -> new Task(x, Tensor.ofInts(new int[]{0}, 1), x, Tensor.ofInts(new int[]{0, 1}, 2), 2, new int[]{1, 1}, null));
    }
}
