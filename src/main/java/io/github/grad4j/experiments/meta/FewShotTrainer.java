package io.github.grad4j.experiments.meta;

import io.github.grad4j.backend.DType;
import io.github.grad4j.experiments.meta.data.Episode;
import io.github.grad4j.experiments.meta.data.EpisodeSampler;
import io.github.grad4j.experiments.meta.data.EpisodeSpec;
import io.github.grad4j.experiments.meta.data.ImageDataset;
import io.github.grad4j.io.AtomicFiles;
import io.github.grad4j.io.Json;
import io.github.grad4j.optim.Adam;
import io.github.grad4j.optim.TrainingCheckpoint;
import io.github.grad4j.report.Progress;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Episodic meta-training of a {@link FewShotModel}: one episode per Adam step, the learning rate
 * halved every {@code lrHalvingEvery} episodes, validation accuracy every
 * {@code validationEvery} episodes on fixed validation episodes, and a checkpoint (model, Adam
 * state, episode count) at each validation and at the end.
 *
 * <p>Output folder: {@value #CHECKPOINT} (loadable as a plain model checkpoint), {@value #DESCRIPTION}
 * (the config, so {@code fewshot eval} can rebuild the model, and a summary), the CSV logs and
 * plots of {@link TrainingCurves}.
 *
 * <p>Deterministic and resumable: episode {@code e} is drawn by a sampler seeded from
 * (seed, e), so a resumed run sees exactly the episodes the uninterrupted run would have, and
 * the checkpoint holds everything else that changes (weights, batch-norm statistics, Adam's
 * moments and step).
 */
public final class FewShotTrainer {
    public static final String CHECKPOINT = "checkpoint.safetensors";
    public static final String DESCRIPTION = "fewshot.json";
    private static final DType DTYPE = DType.FLOAT32;
    /** Offsets the validation episodes' seed so they never coincide with training episodes. */
    private static final long VALIDATION_SEED_OFFSET = 1_000_003L;

    /** What a run ended with. */
    public record Outcome(FewShotModel model, long episodesTrained, double lastValidationAccuracy,
                          double secondsPerEpisode) {
    }

    private final FewShotConfig config;
    private final ImageDataset train;
    private final ImageDataset validation;
    private final Path outDir;
    private final PrintStream out;
    private final String dataDescription;

    /**
     * @param validation classes for validation, or null for none; must have at least {@code ways} classes
     * @param out        where the progress line goes
     * @param dataDescription what the data was (path), recorded in {@value #DESCRIPTION}
     * @throws IllegalArgumentException at once if the data cannot supply the configured episodes
     */
    public FewShotTrainer(FewShotConfig config, ImageDataset train, ImageDataset validation, Path outDir,
                          PrintStream out, String dataDescription) {
        this.config = config;
        this.train = train;
        this.validation = config.validationEpisodes() > 0 ? validation : null;
        this.outDir = outDir;
        this.out = out;
        this.dataDescription = dataDescription;
        // fail before any training if the request cannot be met (the sampler names the numbers)
        new EpisodeSampler(train, config.episodeSpec(), config.seed());
        if (this.validation != null) new EpisodeSampler(this.validation, validationSpec(), config.seed());
    }

    private EpisodeSpec validationSpec() {
        return config.episodeSpec();
    }

    /** The training episode with 0-based index {@code episode}. */
    public static Episode trainingEpisode(ImageDataset train, FewShotConfig config, long episode) {
        long seed = config.seed() ^ (0x9E3779B97F4A7C15L * (episode + 1));
        return new EpisodeSampler(train, config.episodeSpec(), seed).next();
    }

    /**
     * Trains from scratch or, with {@code resume}, continues from the folder's checkpoint (whose
     * recorded settings must equal this config's, apart from the episode count).
     */
    public Outcome train(boolean resume) throws IOException {
        Path checkpoint = outDir.resolve(CHECKPOINT);
        FewShotModel model = config.buildModel(DTYPE);
        Adam optimizer = new Adam(model.namedParameters(), config.learningRate());
        long start = 0;
        TrainingCurves curves = new TrainingCurves();
        if (resume) {
            if (!Files.exists(checkpoint)) {
                throw new IllegalArgumentException("--resume: no " + CHECKPOINT + " in " + outDir.toAbsolutePath());
            }
            FewShotConfig saved = readConfig(outDir);
            List<String> differences = config.differencesIgnoringEpisodes(saved);
            if (!differences.isEmpty()) {
                throw new IllegalArgumentException("--resume: settings differ from the run in " + outDir + ": "
                        + String.join(", ", differences));
            }
            start = TrainingCheckpoint.load(checkpoint, model, optimizer, Map.of()).step();
            curves = TrainingCurves.read(outDir, start);
        } else if (Files.exists(checkpoint)) {
            throw new IllegalArgumentException(outDir.toAbsolutePath() + " already holds a training run (" + CHECKPOINT
                    + "); use --resume to continue it or choose another --out");
        }
        Files.createDirectories(outDir);
        model.train(true);
        Progress progress = Progress.builder(config.episodes()).unitName("ep").out(out).build();
        double lastValidation = Double.NaN;
        long startNanos = System.nanoTime();
        for (long episode = start; episode < config.episodes(); episode++) {
            double lr = config.learningRateAt(episode);
            optimizer.setLearningRate(lr);
            optimizer.zeroGrad();
            EpisodeResult result = model.forward(EpisodeBatch.of(trainingEpisode(train, config, episode), DTYPE));
            double loss = result.loss().item();
            if (!Double.isFinite(loss)) {
                throw new IllegalStateException("training diverged at episode " + (episode + 1) + ": loss " + loss
                        + " (last checkpoint in " + outDir + ")");
            }
            result.loss().backward();
            optimizer.step();
            curves.addTraining(episode + 1, loss, result.accuracy(), lr);
            progress.metric("loss", String.format("%.4f", loss)).metric("acc", String.format("%.3f", result.accuracy()));
            boolean last = episode + 1 == config.episodes();
            if ((episode + 1) % config.validationEvery() == 0 || last) {
                if (validation != null) {
                    FewShotEvaluator.Accuracy accuracy = FewShotEvaluator.evaluate(model, validation, validationSpec(),
                            config.validationEpisodes(), config.seed() + VALIDATION_SEED_OFFSET, null);
                    lastValidation = accuracy.mean();
                    curves.addValidation(episode + 1, accuracy.mean(), accuracy.ci95());
                    progress.metric("val", String.format("%.3f", accuracy.mean()));
                }
                save(model, optimizer, episode + 1, curves, lastValidation);
            }
            progress.update(episode + 1, 1);
        }
        progress.finish();
        long done = config.episodes() - start;
        double secondsPerEpisode = done > 0 ? (System.nanoTime() - startNanos) / 1e9 / done : Double.NaN;
        if (done == 0) save(model, optimizer, start, curves, lastValidation);
        return new Outcome(model, Math.max(start, config.episodes()), lastValidation, secondsPerEpisode);
    }

    private void save(FewShotModel model, Adam optimizer, long episodes, TrainingCurves curves, double validationAccuracy)
            throws IOException {
        TrainingCheckpoint.save(outDir.resolve(CHECKPOINT), model, optimizer, episodes, Map.of(),
                Map.of("fewshot.method", config.method()));
        Map<String, Object> description = new LinkedHashMap<>();
        description.put("config", config.toMap());
        description.put("episodes_trained", episodes);
        description.put("data", dataDescription);
        description.put("train_classes", (long) train.classCount());
        description.put("validation_classes", validation == null ? 0L : (long) validation.classCount());
        description.put("last_validation_accuracy", Double.isNaN(validationAccuracy) ? null : validationAccuracy);
        description.put("backend", model.parameters().get(0).backend().name());
        AtomicFiles.writeString(outDir.resolve(DESCRIPTION), Json.writePretty(description));
        curves.write(outDir, config.method() + " " + config.ways() + "-way " + config.shots() + "-shot");
    }

    /** The config recorded in a training folder's {@value #DESCRIPTION}. */
    public static FewShotConfig readConfig(Path folder) throws IOException {
        Path file = folder.resolve(DESCRIPTION);
        if (!Files.exists(file)) {
            throw new java.nio.file.NoSuchFileException(file.toAbsolutePath() + " (not a few-shot training folder: "
                    + DESCRIPTION + " is missing)");
        }
        return FewShotConfig.fromJson(Files.readString(file), file.toString());
    }

    /**
     * Rebuilds the trained model of a training folder: the config from {@value #DESCRIPTION}, the
     * weights and batch-norm statistics from {@value #CHECKPOINT}.
     */
    public static FewShotModel loadModel(Path folder) throws IOException {
        FewShotConfig config = readConfig(folder);
        Path checkpoint = folder.resolve(CHECKPOINT);
        if (!Files.exists(checkpoint)) {
            throw new java.nio.file.NoSuchFileException(checkpoint.toAbsolutePath() + " (the training folder has no checkpoint)");
        }
        FewShotModel model = config.buildModel(DTYPE);
        TrainingCheckpoint.load(checkpoint, model, null, Map.of());
        model.eval();
        return model;
    }
}
