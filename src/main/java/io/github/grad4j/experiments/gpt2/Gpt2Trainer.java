package io.github.grad4j.experiments.gpt2;

import io.github.grad4j.autograd.GradMode;
import io.github.grad4j.backend.Backend;
import io.github.grad4j.io.Json;
import io.github.grad4j.optim.AdamW;
import io.github.grad4j.optim.GradClip;
import io.github.grad4j.optim.LrSchedule;
import io.github.grad4j.optim.Optimizer;
import io.github.grad4j.optim.TrainingCheckpoint;
import io.github.grad4j.report.CsvWriter;
import io.github.grad4j.report.LinePlot;
import io.github.grad4j.report.Progress;
import io.github.grad4j.tensor.Rng;
import io.github.grad4j.tensor.Tensor;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Trains a {@link Gpt2Model} on a token corpus as nanoGPT does: random windows, AdamW with betas
 * (0.9, 0.95) and weight decay on matrices only, gradient clipping, linear warmup then cosine decay
 * of the learning rate, and a periodic validation loss on a fixed set of evenly spaced windows.
 *
 * <p>Everything goes into {@link Config#outDir()}:
 * <ul>
 *   <li>{@value #CHECKPOINT_FILE}: model, optimizer, step and both random generators (data
 *       sampling, dropout), written atomically every {@link Config#checkpointInterval()} steps and
 *       at the end; {@link #train} with {@code resume} continues from it and reproduces the losses
 *       of an uninterrupted run bit for bit (same backend);</li>
 *   <li>{@value #LOG_FILE}: one row per step (step, train loss, validation loss where evaluated,
 *       learning rate, tokens/s, elapsed seconds);</li>
 *   <li>{@value #PLOT_FILE}: training and validation loss against step;</li>
 *   <li>{@code config.json} and {@code model.safetensors}: the final model as a Hugging Face
 *       directory ({@link Gpt2Checkpoint}), so the folder itself is a loadable model.</li>
 * </ul>
 */
public final class Gpt2Trainer {
    /** The training state file inside the output folder. */
    public static final String CHECKPOINT_FILE = "checkpoint.safetensors";
    /** The per-step CSV log inside the output folder. */
    public static final String LOG_FILE = "log.csv";
    /** The loss plot inside the output folder. */
    public static final String PLOT_FILE = "loss.png";
    /** Checkpoint metadata key holding the model's config.json, so the checkpoint alone can rebuild the model. */
    static final String MODEL_CONFIG_KEY = "gpt2.config";
    /** Checkpoint metadata key holding what determines the training trajectory (compared on resume). */
    static final String TRAJECTORY_KEY = "gpt2.trainer";

    private static final String[] LOG_COLUMNS = {"step", "train_loss", "val_loss", "lr", "tokens_per_s", "elapsed_s"};

    /**
     * Hyperparameters of a run.
     *
     * @param steps              optimizer steps in the whole run
     * @param batchSize          windows per step
     * @param context            tokens per window (at most the model's n_positions)
     * @param learningRate       peak learning rate, reached after the warmup
     * @param minLearningRate    learning rate at the end of the cosine decay (the last step)
     * @param warmupSteps        steps of linear warmup (&lt; steps)
     * @param weightDecay        AdamW decoupled weight decay, applied to matrices and embeddings only
     * @param beta1              AdamW first-moment decay
     * @param beta2              AdamW second-moment decay
     * @param gradClip           largest global gradient norm (gradients are scaled down beyond it)
     * @param evalInterval       validate every this many steps (and after the last step)
     * @param evalBatches        validation batches, each of {@code batchSize} evenly spaced windows
     * @param checkpointInterval save the training state every this many steps (and after the last)
     * @param seed               seed of the data-sampling and dropout generators
     * @param outDir             the output folder
     */
    public record Config(int steps, int batchSize, int context, double learningRate, double minLearningRate,
                         int warmupSteps, double weightDecay, double beta1, double beta2, double gradClip,
                         int evalInterval, int evalBatches, int checkpointInterval, long seed, Path outDir) {
        /** Validates every field; errors name it and its value. */
        public Config {
            positive("steps", steps);
            positive("batch size", batchSize);
            positive("context", context);
            positive("eval interval", evalInterval);
            positive("eval batches", evalBatches);
            positive("checkpoint interval", checkpointInterval);
            if (!(learningRate > 0) || Double.isInfinite(learningRate)) {
                throw new IllegalArgumentException("Gpt2Trainer: learning rate must be positive and finite, got " + learningRate);
            }
            if (!(minLearningRate >= 0 && minLearningRate <= learningRate)) {
                throw new IllegalArgumentException("Gpt2Trainer: min learning rate must be in [0, learning rate "
                        + learningRate + "], got " + minLearningRate);
            }
            if (warmupSteps < 0 || warmupSteps >= steps) {
                throw new IllegalArgumentException("Gpt2Trainer: warmup steps must be in [0, steps " + steps + "), got "
                        + warmupSteps);
            }
            if (!(weightDecay >= 0)) throw new IllegalArgumentException("Gpt2Trainer: weight decay must be >= 0, got " + weightDecay);
            if (!(gradClip > 0)) throw new IllegalArgumentException("Gpt2Trainer: gradient clip must be > 0, got " + gradClip);
            Objects.requireNonNull(outDir, "outDir");
        }

        /**
         * nanoGPT's choices for everything else: min lr = lr / 10, warmup = steps / 10, weight
         * decay 0.1, betas (0.9, 0.95), clip 1.0, validation every max(1, steps / 10) steps over 8
         * batches, a checkpoint every max(1, steps / 4) steps, seed 1.
         */
        public static Config defaults(int steps, int batchSize, int context, double learningRate, Path outDir) {
            return new Config(steps, batchSize, context, learningRate, learningRate / 10, steps / 10, 0.1, 0.9, 0.95, 1.0,
                    Math.max(1, steps / 10), 8, Math.max(1, steps / 4), 1, outDir);
        }

        public Config withWarmupSteps(int n) {
            return new Config(steps, batchSize, context, learningRate, minLearningRate, n, weightDecay, beta1, beta2,
                    gradClip, evalInterval, evalBatches, checkpointInterval, seed, outDir);
        }

        public Config withEval(int interval, int batches) {
            return new Config(steps, batchSize, context, learningRate, minLearningRate, warmupSteps, weightDecay, beta1,
                    beta2, gradClip, interval, batches, checkpointInterval, seed, outDir);
        }

        public Config withCheckpointInterval(int n) {
            return new Config(steps, batchSize, context, learningRate, minLearningRate, warmupSteps, weightDecay, beta1,
                    beta2, gradClip, evalInterval, evalBatches, n, seed, outDir);
        }

        public Config withSeed(long s) {
            return new Config(steps, batchSize, context, learningRate, minLearningRate, warmupSteps, weightDecay, beta1,
                    beta2, gradClip, evalInterval, evalBatches, checkpointInterval, s, outDir);
        }

        public Config withOutDir(Path dir) {
            return new Config(steps, batchSize, context, learningRate, minLearningRate, warmupSteps, weightDecay, beta1,
                    beta2, gradClip, evalInterval, evalBatches, checkpointInterval, seed, dir);
        }

        /**
         * The settings that decide the sequence of parameters and losses. A resumed run must agree
         * on all of them; intervals and the output folder may change.
         */
        Map<String, Object> trajectory() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("steps", (long) steps);
            m.put("batch_size", (long) batchSize);
            m.put("context", (long) context);
            m.put("learning_rate", learningRate);
            m.put("min_learning_rate", minLearningRate);
            m.put("warmup_steps", (long) warmupSteps);
            m.put("weight_decay", weightDecay);
            m.put("beta1", beta1);
            m.put("beta2", beta2);
            m.put("grad_clip", gradClip);
            m.put("seed", seed);
            return m;
        }

        private static void positive(String what, int value) {
            if (value <= 0) throw new IllegalArgumentException("Gpt2Trainer: " + what + " must be positive, got " + value);
        }
    }

    /**
     * One row of the log.
     *
     * @param step             1-based step number (the number of optimizer steps taken)
     * @param trainLoss        mean cross-entropy of this step's batch (nats/token), before the update
     * @param validationLoss   mean cross-entropy over the fixed validation windows after the update,
     *                         NaN on steps without validation
     * @param learningRate     learning rate of this step
     * @param tokensPerSecond  training tokens of this step divided by its wall time
     * @param elapsedSeconds   wall time since the run began, resumed runs included
     */
    public record LogRow(long step, double trainLoss, double validationLoss, double learningRate, double tokensPerSecond,
                         double elapsedSeconds) {
    }

    /** What a run produced: the whole log (earlier rows of a resumed run included). */
    public record Result(List<LogRow> log) {
        /** The last validation loss, NaN if none was computed. */
        public double lastValidationLoss() {
            for (int i = log.size() - 1; i >= 0; i--) if (!Double.isNaN(log.get(i).validationLoss())) return log.get(i).validationLoss();
            return Double.NaN;
        }

        /** Tokens per second over the rows of this log after the first {@code skip} (e.g. warm-up), by total time. */
        public double tokensPerSecond(int skip, int tokensPerStep) {
            double seconds = 0;
            int n = 0;
            for (int i = skip; i < log.size(); i++) {
                seconds += tokensPerStep / log.get(i).tokensPerSecond();
                n++;
            }
            return n == 0 ? Double.NaN : n * (double) tokensPerStep / seconds;
        }
    }

    private final Gpt2Model model;
    private final TokenDataset train;
    private final TokenDataset validation;
    private final Config config;
    private final Backend backend;
    private final Rng dataRng;
    private final Rng dropoutRng;
    private final AdamW optimizer;
    private final LrSchedule schedule;
    private PrintStream progressOut = System.err;

    /**
     * Prepares a run; checks that the corpora hold enough tokens for the context and only ids the
     * model knows. The model's dropout generator is replaced by one derived from the seed.
     */
    public Gpt2Trainer(Gpt2Model model, TokenDataset train, TokenDataset validation, Config config) {
        this.model = Objects.requireNonNull(model, "model");
        this.train = Objects.requireNonNull(train, "train");
        this.validation = Objects.requireNonNull(validation, "validation");
        this.config = Objects.requireNonNull(config, "config");
        Gpt2Config mc = model.config();
        if (config.context() > mc.nPositions()) {
            throw new IllegalArgumentException("Gpt2Trainer: context " + config.context()
                    + " exceeds the model's context length n_positions = " + mc.nPositions());
        }
        for (TokenDataset d : new TokenDataset[]{train, validation}) {
            if (d.size() < config.context() + 1) {
                throw new IllegalArgumentException(d.source() + ": " + d.size() + " tokens are too few for windows of "
                        + (config.context() + 1) + " tokens; use a smaller --context or more text");
            }
            int[] t = d.tokens();
            for (int i = 0; i < t.length; i++) {
                if (t[i] < 0 || t[i] >= mc.vocabSize()) {
                    throw new IllegalArgumentException(d.source() + ": token id " + t[i] + " at position " + i
                            + " is outside the model's vocabulary [0, " + mc.vocabSize() + ")");
                }
            }
        }
        this.backend = model.parameters().get(0).backend();
        // separate streams from the model's initialization generator (which the caller seeds)
        Rng streams = new Rng(config.seed() ^ 0x7472_6169_6E69_6E67L);
        this.dataRng = streams.fork();
        this.dropoutRng = streams.fork();
        model.setDropoutRng(dropoutRng);
        this.optimizer = new AdamW(model.namedParameters(), config.learningRate(), config.beta1(), config.beta2(), 1e-8,
                config.weightDecay());
        optimizer.setWeightDecayFilter(Optimizer.DECAY_MATRICES_ONLY);
        this.schedule = LrSchedule.warmupCosine(config.learningRate(), config.minLearningRate(), config.warmupSteps(),
                Math.max(config.steps() - 1, config.warmupSteps() + 1));
    }

    /** Where the one-line progress goes (default System.err; null for none). */
    public Gpt2Trainer progressTo(PrintStream out) {
        this.progressOut = out;
        return this;
    }

    /** The optimizer (AdamW), e.g. to inspect its learning rate. */
    public Optimizer optimizer() {
        return optimizer;
    }

    /**
     * Runs all steps. With {@code resume} the run continues from the output folder's checkpoint
     * (which must come from a run with the same model shape, trajectory settings and data);
     * without it the folder must not already hold a checkpoint. A checkpoint that does not fit is
     * reported with every difference; the model and optimizer may then have been overwritten, so
     * build a new trainer rather than retrying with this one.
     */
    public Result train(boolean resume) throws IOException {
        return trainUntil(config.steps(), resume);
    }

    /**
     * Runs up to step {@code lastStep} (at most {@link Config#steps()}) and saves a checkpoint
     * there, as an interrupted run that is resumed later would have; the learning-rate schedule is
     * that of the whole run. The Hugging Face files and the plot are written only when the run ends.
     */
    public Result trainUntil(long lastStep, boolean resume) throws IOException {
        if (lastStep < 1 || lastStep > config.steps()) {
            throw new IllegalArgumentException("Gpt2Trainer: last step must be in [1, " + config.steps() + "], got " + lastStep);
        }
        Path out = config.outDir();
        Files.createDirectories(out);
        Path checkpoint = out.resolve(CHECKPOINT_FILE);
        List<LogRow> log = new ArrayList<>();
        long step = 0;
        if (resume) {
            if (!Files.isRegularFile(checkpoint)) {
                throw new IOException(checkpoint + ": no checkpoint to resume from (train without --resume first)");
            }
            step = restore(checkpoint);
            log.addAll(readLog(out.resolve(LOG_FILE), step));
        } else if (Files.exists(checkpoint)) {
            throw new IOException(out + " already holds a training checkpoint; resume it or choose another output folder");
        }
        double elapsedBefore = log.isEmpty() ? 0 : log.get(log.size() - 1).elapsedSeconds();
        long startNanos = System.nanoTime();
        int tokensPerStep = config.batchSize() * config.context();
        Progress progress = progressOut == null ? null
                : Progress.builder(config.steps()).unitName("tok").out(progressOut).build();
        model.train(true);
        while (step < lastStep) {
            long stepStart = System.nanoTime();
            double lr = schedule.at(step);
            optimizer.setLearningRate(lr);
            TokenDataset.Batch batch = train.sample(dataRng, config.batchSize(), config.context());
            Tensor loss = model.loss(batch.inputs().to(backend), batch.targets().to(backend));
            double trainLoss = loss.item();
            if (!Double.isFinite(trainLoss)) {
                throw new IllegalStateException("training diverged at step " + (step + 1) + ": loss " + trainLoss
                        + " (learning rate " + lr + "); try a lower learning rate");
            }
            loss.backward();
            GradClip.clipGradNorm(model.parameters(), config.gradClip());
            optimizer.step();
            optimizer.zeroGrad();
            step++;
            double tokensPerSecond = tokensPerStep / ((System.nanoTime() - stepStart) / 1e9);
            boolean last = step == config.steps();
            double validationLoss = step % config.evalInterval() == 0 || last ? validationLoss() : Double.NaN;
            double elapsed = elapsedBefore + (System.nanoTime() - startNanos) / 1e9;
            log.add(new LogRow(step, trainLoss, validationLoss, lr, tokensPerSecond, elapsed));
            if (progress != null) {
                progress.metric("loss", trainLoss);
                if (!Double.isNaN(validationLoss)) progress.metric("val", validationLoss);
                progress.metric("lr", lr).update(step, tokensPerStep);
            }
            if (step % config.checkpointInterval() == 0 || step == lastStep) save(checkpoint, step, log);
        }
        if (progress != null) progress.finish();
        if (step == config.steps()) {
            Gpt2Checkpoint.save(model, out);
            writePlot(out.resolve(PLOT_FILE), log);
        }
        return new Result(List.copyOf(log));
    }

    /** Mean loss over the fixed validation windows, in eval mode (no dropout) without a graph. */
    public double validationLoss() {
        boolean wasTraining = model.isTraining();
        model.eval();
        double sum = 0;
        try (GradMode.Scope ignored = GradMode.noGrad()) {
            for (int i = 0; i < config.evalBatches(); i++) {
                TokenDataset.Batch b = validation.window(i, config.evalBatches(), config.batchSize(), config.context());
                sum += model.loss(b.inputs().to(backend), b.targets().to(backend)).item();
            }
        } finally {
            model.train(wasTraining);
        }
        return sum / config.evalBatches(); // every batch has the same number of tokens
    }

    // ---------------------------------------------------------------- checkpoints and files

    private Map<String, Rng> generators() {
        Map<String, Rng> g = new LinkedHashMap<>();
        g.put("data", dataRng);
        g.put("dropout", dropoutRng);
        return g;
    }

    private Map<String, String> metadata() {
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put(MODEL_CONFIG_KEY, Json.write(model.config().toJson()));
        Map<String, Object> trajectory = config.trajectory();
        trajectory.put("train_tokens", (long) train.size());
        trajectory.put("train_tokens_hash", (long) Arrays.hashCode(train.tokens()));
        meta.put(TRAJECTORY_KEY, Json.write(trajectory));
        return meta;
    }

    private void save(Path checkpoint, long step, List<LogRow> log) throws IOException {
        // the log first: after a crash between the two writes it holds at least the checkpoint's rows
        writeLog(config.outDir().resolve(LOG_FILE), log);
        TrainingCheckpoint.save(checkpoint, model, optimizer, step, generators(), metadata());
    }

    private long restore(Path checkpoint) throws IOException {
        TrainingCheckpoint.Restored restored = TrainingCheckpoint.load(checkpoint, model, optimizer, generators());
        Map<String, String> mine = metadata();
        List<String> differences = new ArrayList<>();
        for (String key : new String[]{MODEL_CONFIG_KEY, TRAJECTORY_KEY}) {
            Map<?, ?> want = (Map<?, ?>) Json.parse(mine.get(key));
            String text = restored.metadata().get(key);
            Object theirs = text == null ? null : Json.parse(text);
            if (!(theirs instanceof Map)) {
                differences.add("metadata '" + key + "' is missing");
                continue;
            }
            for (Object k : want.keySet()) {
                Object a = ((Map<?, ?>) theirs).get(k), b = want.get(k);
                if (!Objects.equals(a, b)) differences.add(k + " " + a + " in the checkpoint, " + b + " now");
            }
        }
        if (!differences.isEmpty()) {
            throw new IllegalArgumentException(checkpoint + ": the checkpoint was made by a different run and cannot be "
                    + "resumed with these settings (or this data): " + String.join("; ", differences));
        }
        long step = restored.step();
        if (step < 0 || step > config.steps()) {
            throw new IllegalArgumentException(checkpoint + ": checkpoint step " + step + " is outside [0, " + config.steps() + "]");
        }
        return step;
    }

    private static void writeLog(Path file, List<LogRow> log) throws IOException {
        CsvWriter csv = new CsvWriter(LOG_COLUMNS);
        for (LogRow r : log) {
            csv.row(r.step(), r.trainLoss(), Double.isNaN(r.validationLoss()) ? null : r.validationLoss(), r.learningRate(),
                    r.tokensPerSecond(), r.elapsedSeconds());
        }
        csv.write(file);
    }

    /** The log rows up to {@code lastStep} (later rows belong to steps the checkpoint does not hold). */
    static List<LogRow> readLog(Path file, long lastStep) throws IOException {
        List<LogRow> rows = new ArrayList<>();
        if (!Files.isRegularFile(file)) return rows; // the history is lost, the training state is not
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        if (lines.isEmpty() || !lines.get(0).equals(String.join(",", LOG_COLUMNS))) {
            throw new IOException(file + ": not a training log (expected the header " + String.join(",", LOG_COLUMNS) + ")");
        }
        for (int i = 1; i < lines.size(); i++) {
            String[] f = lines.get(i).split(",", -1);
            try {
                if (f.length != LOG_COLUMNS.length) throw new NumberFormatException(f.length + " fields");
                LogRow r = new LogRow(Long.parseLong(f[0]), Double.parseDouble(f[1]),
                        f[2].isEmpty() ? Double.NaN : Double.parseDouble(f[2]), Double.parseDouble(f[3]),
                        Double.parseDouble(f[4]), Double.parseDouble(f[5]));
                if (r.step() <= lastStep) rows.add(r);
            } catch (NumberFormatException e) {
                throw new IOException(file + ": line " + (i + 1) + " is not a log row (" + e.getMessage() + ")");
            }
        }
        return rows;
    }

    private static void writePlot(Path file, List<LogRow> log) throws IOException {
        double[] steps = log.stream().mapToDouble(LogRow::step).toArray();
        double[] trainLoss = log.stream().mapToDouble(LogRow::trainLoss).toArray();
        List<LogRow> evaluated = log.stream().filter(r -> !Double.isNaN(r.validationLoss())).toList();
        // markers keep a lone validation point visible; on long runs they would only thicken the lines
        new LinePlot().markers(evaluated.size() < 2 || log.size() <= 100).title("GPT-2 training").xLabel("step").yLabel("cross-entropy (nats/token)")
                .series("train (batch)", steps, trainLoss)
                .series("validation", evaluated.stream().mapToDouble(LogRow::step).toArray(),
                        evaluated.stream().mapToDouble(LogRow::validationLoss).toArray())
                .writePng(file);
    }
}
