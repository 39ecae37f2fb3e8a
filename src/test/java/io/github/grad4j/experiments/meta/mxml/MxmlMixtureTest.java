package io.github.grad4j.experiments.meta.mxml;

import io.github.grad4j.autograd.GradCheck;
import io.github.grad4j.autograd.GradMode;
import io.github.grad4j.backend.DType;
import io.github.grad4j.experiments.meta.Conv4;
import io.github.grad4j.experiments.meta.EpisodeBatch;
import io.github.grad4j.experiments.meta.PrototypicalNetwork;
import io.github.grad4j.experiments.meta.data.Episode;
import io.github.grad4j.experiments.meta.data.EpisodeSampler;
import io.github.grad4j.experiments.meta.data.EpisodeSpec;
import io.github.grad4j.experiments.meta.data.ImageDataset;
import io.github.grad4j.optim.Adam;
import io.github.grad4j.tensor.Rng;
import io.github.grad4j.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The WPN, the mixture and the freezing of the learners, on tiny untrained learners and random numbers. */
class MxmlMixtureTest {
    private static final ImageDataset DATA = SyntheticSources.halves("left", true, 6, 8, 16, 3);
    private static final EpisodeSpec SPEC = EpisodeSpec.fixed(3, 3, 2);

    private static FrozenLearner tinyLearner(String name, long seed) {
        return new FrozenLearner(name, new PrototypicalNetwork(new Conv4(1, 4, 16, new Rng(seed), DType.FLOAT32)), null);
    }

    /** A WPN whose output layer is random (a fresh one is exactly uniform, which would prove nothing). */
    private static WeightPredictionNetwork randomWpn(int learners, DType dtype, long seed) {
        WeightPredictionNetwork wpn = new WeightPredictionNetwork(learners, 5, new Rng(seed), dtype);
        Rng rng = new Rng(seed + 1);
        try (GradMode.Scope ignored = GradMode.noGrad()) {
            for (Map.Entry<String, Tensor> p : wpn.namedParameters().entrySet()) {
                if (p.getKey().startsWith("output.")) p.getValue().assign(Tensor.randn(rng, 1.0, dtype, p.getValue().shape()));
            }
        }
        return wpn;
    }

    private static Tensor randomLogProbabilities(Rng rng, int queries, int ways, DType dtype) {
        return Tensor.randn(rng, 2.0, dtype, queries, ways).logSoftmax(1).detach();
    }

    @Test
    void weightsArePositiveAndSumToOne() {
        WeightPredictionNetwork wpn = randomWpn(3, DType.FLOAT32, 5);
        Rng rng = new Rng(9);
        for (int trial = 0; trial < 5; trial++) {
            double[] summaries = Tensor.randn(rng, 3.0, DType.FLOAT64, 3 * SupportSummary.SIZE).toDoubleArray();
            double[] w = wpn.weights(summaries);
            double sum = 0;
            for (double v : w) {
                assertTrue(v > 0 && v < 1, "weight " + v);
                sum += v;
            }
            assertEquals(1.0, sum, 1e-6);
        }
    }

    @Test
    void weightsDoNotDependOnSupportOrderButOnSupportContent() {
        MxmlModel model = new MxmlModel(List.of(tinyLearner("a", 1), tinyLearner("b", 2)), randomWpn(2, DType.FLOAT32, 7));
        Episode episode = new EpisodeSampler(DATA, SPEC, 11).next();
        EpisodeBatch original = EpisodeBatch.of(episode, DType.FLOAT32);
        // reverse the support set (images and labels together)
        int n = episode.supportSize();
        float[][] images = new float[n][];
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) {
            images[i] = episode.supportImages()[n - 1 - i];
            labels[i] = episode.supportLabels()[n - 1 - i];
        }
        EpisodeBatch reversed = EpisodeBatch.of(images, labels, episode.queryImages(), episode.queryLabels(),
                episode.ways(), 16, DType.FLOAT32);
        EpisodeAnalysis a = model.analyze(original);
        EpisodeAnalysis b = model.analyze(reversed);
        assertArrayEquals(a.summaries(), b.summaries(), 1e-5);
        double[] wa = model.predict(a).weights();
        double[] wb = model.predict(b).weights();
        assertArrayEquals(wa, wb, 1e-6);

        EpisodeAnalysis other = model.analyze(EpisodeBatch.of(new EpisodeSampler(DATA, SPEC, 12).next(), DType.FLOAT32));
        double[] wOther = model.predict(other).weights();
        assertTrue(Math.abs(wOther[0] - wa[0]) > 1e-6, "the weights should react to another support set");
    }

    @Test
    void oneHotWeightsGiveThatLearnersPrediction() {
        Rng rng = new Rng(3);
        Tensor[] parts = {randomLogProbabilities(rng, 6, 4, DType.FLOAT32), randomLogProbabilities(rng, 6, 4, DType.FLOAT32),
                randomLogProbabilities(rng, 6, 4, DType.FLOAT32)};
        EpisodeAnalysis analysis = new EpisodeAnalysis(new double[0], parts, new int[]{0, 1, 2, 3, 0, 1});
        for (int m = 0; m < 3; m++) {
            double[] oneHot = new double[3];
            oneHot[m] = 1;
            MxmlModel.Prediction p = MxmlModel.predictWithWeights(analysis, oneHot);
            assertArrayEquals(parts[m].toDoubleArray(), p.logProbabilities().toDoubleArray(), 1e-6);
            assertEquals(Mixture.accuracy(parts[m], analysis.queryLabels()), p.accuracy());
        }
    }

    @Test
    void mixtureMatchesTheDefinitionAndStaysFiniteForTinyProbabilities() {
        Rng rng = new Rng(4);
        Tensor a = randomLogProbabilities(rng, 3, 5, DType.FLOAT64);
        Tensor b = randomLogProbabilities(rng, 3, 5, DType.FLOAT64).sub(500);   // probabilities ~ e^-500
        double[] w = {0.3, 0.7};
        Tensor logW = Tensor.of(new double[]{Math.log(w[0]), Math.log(w[1])}, DType.FLOAT64, 2);
        double[] mixed = Mixture.logProbabilities(logW, new Tensor[]{a, b}).toDoubleArray();
        double[] pa = a.toDoubleArray(), pb = b.toDoubleArray();
        for (int i = 0; i < mixed.length; i++) {
            // the definition, log(w0 p0 + w1 p1), in plain doubles
            double expected = Math.log(w[0] * Math.exp(pa[i]) + w[1] * Math.exp(pb[i]));
            assertEquals(expected, mixed[i], 1e-9);
        }
        // both learners far below double's range: a naive log(sum w p) would be log(0) = -inf
        Tensor c = a.sub(2000), d = randomLogProbabilities(rng, 3, 5, DType.FLOAT64).sub(2000);
        Tensor loss = Mixture.negativeLogLikelihood(Mixture.logProbabilities(logW, new Tensor[]{c, d}), new int[]{0, 1, 2});
        assertTrue(Double.isFinite(loss.item()) && loss.item() > 1900, "loss " + loss.item());
    }

    @Test
    void mixtureLossGradientMatchesCentralDifferences() {
        Rng rng = new Rng(8);
        WeightPredictionNetwork wpn = randomWpn(3, DType.FLOAT64, 21);
        wpn.setStandardization(Tensor.randn(rng, 1.0, DType.FLOAT64, 3 * SupportSummary.SIZE).toDoubleArray(),
                Tensor.uniform(rng, 0.5, 2.0, DType.FLOAT64, 3 * SupportSummary.SIZE).toDoubleArray());
        Tensor[] parts = {randomLogProbabilities(rng, 4, 3, DType.FLOAT64), randomLogProbabilities(rng, 4, 3, DType.FLOAT64),
                randomLogProbabilities(rng, 4, 3, DType.FLOAT64)};
        double[] summaries = Tensor.randn(rng, 1.0, DType.FLOAT64, 3 * SupportSummary.SIZE).toDoubleArray();
        int[] labels = {0, 2, 1, 2};
        List<String> names = new ArrayList<>(wpn.namedParameters().keySet());
        Tensor[] inputs = new Tensor[names.size()];
        for (int i = 0; i < inputs.length; i++) inputs[i] = wpn.namedParameters().get(names.get(i)).detach();
        GradCheck.Result result = GradCheck.float64().gradcheck(x -> {
            Map<String, Tensor> replacements = new HashMap<>();
            for (int i = 0; i < x.length; i++) replacements.put(names.get(i), x[i]);
            return wpn.functionalCall(replacements, () -> Mixture.negativeLogLikelihood(
                    Mixture.logProbabilities(wpn.logWeights(summaries), parts), labels));
        }, inputs, new Rng(1));
        assertTrue(result.passed(), "gradcheck: " + result);
    }

    @Test
    void learnersReceiveNoGradientAndStayUnchanged() {
        FrozenLearner a = tinyLearner("a", 1), b = tinyLearner("b", 2);
        WeightPredictionNetwork wpn = randomWpn(2, DType.FLOAT32, 3);
        MxmlModel model = new MxmlModel(List.of(a, b), wpn);
        List<double[]> before = new ArrayList<>();
        for (FrozenLearner l : model.learners()) for (Tensor p : l.model().parameters()) before.add(p.toDoubleArray());
        Adam optimizer = new Adam(wpn.namedParameters(), 0.1);
        for (int step = 0; step < 3; step++) {
            optimizer.zeroGrad();
            EpisodeBatch batch = EpisodeBatch.of(new EpisodeSampler(DATA, SPEC, 30 + step).next(), DType.FLOAT32);
            MxmlModel.Prediction p = model.predict(model.analyze(batch));
            p.loss().backward();
            for (FrozenLearner l : model.learners()) {
                for (Map.Entry<String, Tensor> e : l.model().namedParameters().entrySet()) {
                    assertNull(e.getValue().grad(), "learner " + l.name() + " parameter " + e.getKey() + " got a gradient");
                }
            }
            Tensor g = wpn.namedParameters().get("output.weight").grad();
            assertNotNull(g, "the WPN must receive a gradient");
            assertTrue(g.abs().sum().item() > 0, "the WPN's gradient should not vanish");
            optimizer.step();
        }
        int i = 0;
        for (FrozenLearner l : model.learners()) {
            for (Tensor p : l.model().parameters()) assertArrayEquals(before.get(i++), p.toDoubleArray(), 0.0);
            assertFalse(l.model().isTraining(), "frozen learners run in evaluation mode");
        }
    }

    @Test
    void oneShotSupportIsRejectedWithAReason() {
        MxmlModel model = new MxmlModel(List.of(tinyLearner("a", 1)), randomWpn(1, DType.FLOAT32, 2));
        EpisodeBatch oneShot = EpisodeBatch.of(new EpisodeSampler(DATA, EpisodeSpec.fixed(3, 1, 2), 1).next(), DType.FLOAT32);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> model.analyze(oneShot));
        assertTrue(e.getMessage().contains("at least 2 shots"), e.getMessage());
    }
}
