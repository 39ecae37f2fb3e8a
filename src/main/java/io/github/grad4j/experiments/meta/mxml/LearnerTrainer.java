package io.github.grad4j.experiments.meta.mxml;

import io.github.grad4j.backend.DType;
import io.github.grad4j.experiments.meta.EpisodeBatch;
import io.github.grad4j.experiments.meta.EpisodeResult;
import io.github.grad4j.experiments.meta.FewShotConfig;
import io.github.grad4j.experiments.meta.FewShotModel;
import io.github.grad4j.experiments.meta.FewShotTrainer;
import io.github.grad4j.io.AtomicFiles;
import io.github.grad4j.io.Json;
import io.github.grad4j.optim.Adam;
import io.github.grad4j.optim.TrainingCheckpoint;
import io.github.grad4j.report.CsvWriter;
import io.github.grad4j.report.Progress;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Episodic training of one base learner (or the union baseline) on {@link EpisodeSources}: one
 * episode per Adam step, as {@link FewShotTrainer} does for a single dataset, but drawing each
 * episode from one of several sources. Writes the folder layout of {@link FewShotTrainer}
 * ({@value FewShotTrainer#CHECKPOINT}, {@value FewShotTrainer#DESCRIPTION}), so
 * {@link FewShotTrainer#loadModel}, {@code fewshot eval} and {@code --learners} read it; plus
 * {@value #LOG} with the per-episode loss and accuracy.
 */
public final class LearnerTrainer {
    public static final String LOG = "train_log.csv";
    private static final DType DTYPE = DType.FLOAT32;

    private LearnerTrainer() {
    }

    /** What training ended with. */
    public record Outcome(FewShotModel model, double meanLossLast50, double meanAccuracyLast50,
                          double secondsPerEpisode) {
    }

    /**
     * Trains {@code config.episodes()} episodes from scratch; {@code sources}' episode spec must be
     * {@code config}'s (checked).
     *
     * @throws IllegalArgumentException if {@code outDir} already holds a checkpoint, or the specs differ
     * @throws IllegalStateException    if the loss stops being finite
     */
    public static Outcome train(FewShotConfig config, EpisodeSources sources, Path outDir, PrintStream out)
            throws IOException {
        if (!config.episodeSpec().equals(sources.spec())) {
            throw new IllegalArgumentException("LearnerTrainer: the sources draw " + sources.spec()
                    + " episodes but the config asks for " + config.episodeSpec());
        }
        if (Files.exists(outDir.resolve(FewShotTrainer.CHECKPOINT))) {
            throw new IllegalArgumentException(outDir.toAbsolutePath() + " already holds a training run; choose another folder");
        }
        Files.createDirectories(outDir);
        FewShotModel model = config.buildModel(DTYPE);
        Adam optimizer = new Adam(model.namedParameters(), config.learningRate());
        model.train(true);
        CsvWriter log = new CsvWriter("episode", "source", "loss", "accuracy", "lr");
        int window = Math.min(50, config.episodes());
        double recentLoss = 0, recentAccuracy = 0;
        Progress progress = Progress.builder(config.episodes()).unitName("ep").out(out).build();
        long start = System.nanoTime();
        for (int episode = 0; episode < config.episodes(); episode++) {
            double lr = config.learningRateAt(episode);
            optimizer.setLearningRate(lr);
            optimizer.zeroGrad();
            EpisodeSources.Drawn drawn = sources.episode(episode);
            EpisodeResult result = model.forward(EpisodeBatch.of(drawn.episode(), DTYPE));
            double loss = result.loss().item();
            if (!Double.isFinite(loss)) {
                throw new IllegalStateException("learner training diverged at episode " + (episode + 1) + ": loss " + loss);
            }
            result.loss().backward();
            optimizer.step();
            log.row(episode + 1, sources.names().get(drawn.source()), loss, result.accuracy(), lr);
            if (episode >= config.episodes() - window) {
                recentLoss += loss / window;
                recentAccuracy += result.accuracy() / window;
            }
            progress.metric("loss", String.format("%.3f", loss)).metric("acc", String.format("%.2f", result.accuracy()));
            progress.update(episode + 1, 1);
        }
        progress.finish();
        double secondsPerEpisode = (System.nanoTime() - start) / 1e9 / config.episodes();
        model.eval();
        TrainingCheckpoint.save(outDir.resolve(FewShotTrainer.CHECKPOINT), model, optimizer, config.episodes(),
                Map.of(), Map.of("fewshot.method", config.method()));
        Map<String, Object> description = new LinkedHashMap<>();
        description.put("config", config.toMap());
        description.put("episodes_trained", (long) config.episodes());
        description.put("data", sources.toString());
        description.put("sources", sources.names());
        description.put("train_classes", (long) sources.classCount());
        description.put("validation_classes", 0L);
        description.put("last_validation_accuracy", null);
        description.put("mean_train_loss_last_" + window, recentLoss);
        description.put("mean_train_accuracy_last_" + window, recentAccuracy);
        description.put("seconds_per_episode", secondsPerEpisode);
        description.put("backend", model.parameters().get(0).backend().name());
        AtomicFiles.writeString(outDir.resolve(FewShotTrainer.DESCRIPTION), Json.writePretty(description));
        log.write(outDir.resolve(LOG));
        return new Outcome(model, recentLoss, recentAccuracy, secondsPerEpisode);
    }
}
