package io.github.grad4j.experiments.meta.mxml;

import io.github.grad4j.autograd.GradMode;
import io.github.grad4j.backend.DType;
import io.github.grad4j.experiments.meta.EpisodeBatch;
import io.github.grad4j.experiments.meta.FewShotTrainer;
import io.github.grad4j.io.AtomicFiles;
import io.github.grad4j.io.Json;
import io.github.grad4j.io.SafeTensors;
import io.github.grad4j.tensor.Rng;
import io.github.grad4j.tensor.Tensor;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * MxML (Park et al. 2019): M frozen meta-learners and a {@link WeightPredictionNetwork} that, per
 * episode, mixes their predictions: p(y|x) = sum_m w_m(support) p_m(y|x).
 *
 * <p>Saved as a folder: {@value #DESCRIPTION} (learner names and training folders, relative to the
 * MxML folder where possible, and the WPN's size) and {@value #WEIGHTS} (the WPN's parameters and
 * feature standardization).
 */
public final class MxmlModel {
    public static final String DESCRIPTION = "mxml.json";
    public static final String WEIGHTS = "wpn.safetensors";

    private final List<FrozenLearner> learners;
    private final WeightPredictionNetwork wpn;

    /** What the mixture predicts for one episode. */
    public record Prediction(double[] weights, Tensor logProbabilities, Tensor loss, double accuracy) {
    }

    public MxmlModel(List<FrozenLearner> learners, WeightPredictionNetwork wpn) {
        if (learners.isEmpty()) throw new IllegalArgumentException("MxML needs at least one learner");
        if (wpn.learners() != learners.size()) {
            throw new IllegalArgumentException("MxML: the WPN mixes " + wpn.learners() + " learners but "
                    + learners.size() + " were given");
        }
        this.learners = List.copyOf(learners);
        this.wpn = wpn;
    }

    public List<FrozenLearner> learners() {
        return learners;
    }

    public List<String> learnerNames() {
        return learners.stream().map(FrozenLearner::name).toList();
    }

    public WeightPredictionNetwork wpn() {
        return wpn;
    }

    /** Runs every learner on the episode (no graph) and collects what the WPN and the loss need. */
    public EpisodeAnalysis analyze(EpisodeBatch episode) {
        double[] summaries = new double[learners.size() * SupportSummary.SIZE];
        Tensor[] logProbabilities = new Tensor[learners.size()];
        for (int m = 0; m < learners.size(); m++) {
            FrozenLearner.View view = learners.get(m).view(episode, wpn.dtype());
            System.arraycopy(view.summary(), 0, summaries, m * SupportSummary.SIZE, SupportSummary.SIZE);
            logProbabilities[m] = view.queryLogProbabilities();
        }
        return new EpisodeAnalysis(summaries, logProbabilities, episode.queryLabels());
    }

    /**
     * The WPN's weights and the mixture for an analysed episode. The loss (query cross-entropy of
     * the mixture, null without labels) carries a graph into the WPN's parameters only.
     */
    public Prediction predict(EpisodeAnalysis analysis) {
        Tensor logWeights = wpn.logWeights(analysis.summaries());
        Tensor logProbabilities = Mixture.logProbabilities(logWeights, analysis.learnerLogProbabilities());
        double[] weights;
        try (GradMode.Scope ignored = GradMode.noGrad()) {
            weights = logWeights.exp().toDoubleArray();
        }
        return finish(weights, logProbabilities, analysis.queryLabels());
    }

    /** The mixture with given weights (e.g. uniform, or one-hot to recover a single learner); no graph. */
    public static Prediction predictWithWeights(EpisodeAnalysis analysis, double[] weights) {
        Tensor[] parts = analysis.learnerLogProbabilities();
        if (weights.length != parts.length) {
            throw new IllegalArgumentException("predictWithWeights: " + weights.length + " weights for "
                    + parts.length + " learners");
        }
        double[] logWeights = new double[weights.length];
        for (int m = 0; m < weights.length; m++) logWeights[m] = Math.log(weights[m]);
        try (GradMode.Scope ignored = GradMode.noGrad()) {
            Tensor lw = Tensor.of(logWeights, parts[0].dtype(), weights.length).to(parts[0].backend());
            return finish(weights.clone(), Mixture.logProbabilities(lw, parts), analysis.queryLabels());
        }
    }

    /** Uniform weights 1/M: the naive ensemble. */
    public static double[] uniformWeights(int learners) {
        double[] w = new double[learners];
        java.util.Arrays.fill(w, 1.0 / learners);
        return w;
    }

    private static Prediction finish(double[] weights, Tensor logProbabilities, int[] labels) {
        if (labels == null) return new Prediction(weights, logProbabilities, null, Double.NaN);
        Tensor loss = Mixture.negativeLogLikelihood(logProbabilities, labels);
        return new Prediction(weights, logProbabilities, loss, Mixture.accuracy(logProbabilities, labels));
    }

    /** Writes {@value #DESCRIPTION} and {@value #WEIGHTS} into {@code folder}; {@code extra} goes into the JSON. */
    public void save(Path folder, Map<String, Object> extra) throws IOException {
        Files.createDirectories(folder);
        List<Object> learnerEntries = new ArrayList<>();
        for (FrozenLearner learner : learners) {
            if (learner.folder() == null) {
                throw new IllegalStateException("MxML save: learner '" + learner.name() + "' has no training folder");
            }
            Map<String, Object> entry = new LinkedHashMap<>();
            entry.put("name", learner.name());
            entry.put("folder", relativeIfPossible(folder, learner.folder()));
            learnerEntries.add(entry);
        }
        Map<String, Object> description = new LinkedHashMap<>();
        description.put("method", "mxml");
        description.put("learners", learnerEntries);
        description.put("wpn_hidden", (long) wpn.hiddenSize());
        description.put("summary_features", List.of(SupportSummary.NAMES));
        description.putAll(extra);
        SafeTensors.save(folder.resolve(WEIGHTS), wpn.stateDict(), Map.of("fewshot.method", "mxml"));
        AtomicFiles.writeString(folder.resolve(DESCRIPTION), Json.writePretty(description));
    }

    private static String relativeIfPossible(Path base, Path target) {
        Path absoluteBase = base.toAbsolutePath().normalize();
        Path absoluteTarget = target.toAbsolutePath().normalize();
        try {
            return absoluteBase.relativize(absoluteTarget).toString();
        } catch (IllegalArgumentException differentRoots) {
            return absoluteTarget.toString();
        }
    }

    /** Whether {@code folder} holds a saved MxML model. */
    public static boolean isMxmlFolder(Path folder) {
        return Files.isRegularFile(folder.resolve(DESCRIPTION));
    }

    /** The JSON description of a saved model. */
    public static Map<?, ?> readDescription(Path folder) throws IOException {
        Path file = folder.resolve(DESCRIPTION);
        if (!Files.exists(file)) {
            throw new NoSuchFileException(file.toAbsolutePath() + " (not an MxML folder: " + DESCRIPTION + " is missing)");
        }
        if (!(Json.parse(Files.readString(file), file.toString()) instanceof Map<?, ?> map)) {
            throw new IllegalArgumentException(file + ": expected a JSON object");
        }
        return map;
    }

    /** Loads a saved model: each learner from its training folder, then the WPN's weights. */
    public static MxmlModel load(Path folder) throws IOException {
        Map<?, ?> description = readDescription(folder);
        if (!(description.get("learners") instanceof List<?> entries) || entries.isEmpty()) {
            throw new IllegalArgumentException(folder.resolve(DESCRIPTION) + ": 'learners' must be a non-empty list");
        }
        List<FrozenLearner> learners = new ArrayList<>();
        for (Object entry : entries) {
            if (!(entry instanceof Map<?, ?> e) || !(e.get("name") instanceof String name)
                    || !(e.get("folder") instanceof String learnerFolder)) {
                throw new IllegalArgumentException(folder.resolve(DESCRIPTION) + ": each learner needs 'name' and 'folder'");
            }
            Path learnerPath = folder.resolve(learnerFolder).normalize();
            learners.add(new FrozenLearner(name, FewShotTrainer.loadModel(learnerPath), learnerPath));
        }
        if (!(description.get("wpn_hidden") instanceof Number hidden)) {
            throw new IllegalArgumentException(folder.resolve(DESCRIPTION) + ": missing 'wpn_hidden'");
        }
        WeightPredictionNetwork wpn = new WeightPredictionNetwork(learners.size(), hidden.intValue(), new Rng(0),
                DType.FLOAT32);
        Path weights = folder.resolve(WEIGHTS);
        if (!Files.exists(weights)) throw new NoSuchFileException(weights.toAbsolutePath() + " (the MxML folder has no WPN weights)");
        wpn.loadStateDict(SafeTensors.load(weights), true);
        return new MxmlModel(learners, wpn);
    }
}
