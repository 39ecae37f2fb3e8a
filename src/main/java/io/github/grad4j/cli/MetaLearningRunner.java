package io.github.grad4j.cli;

import io.github.grad4j.backend.DType;
import io.github.grad4j.experiments.meta.data.EpisodeSampler;
import io.github.grad4j.experiments.meta.maml.BalancingLog;
import io.github.grad4j.experiments.meta.maml.BaseNetwork;
import io.github.grad4j.experiments.meta.maml.MetaEvaluation;
import io.github.grad4j.experiments.meta.maml.MetaLearner;
import io.github.grad4j.experiments.meta.maml.MetaLearnerConfig;
import io.github.grad4j.experiments.meta.maml.Task;
import io.github.grad4j.experiments.meta.data.EpisodeSpec;
import io.github.grad4j.experiments.meta.data.FashionMnist;
import io.github.grad4j.experiments.meta.data.ImageDataset;
import io.github.grad4j.experiments.meta.data.OmniglotLoader;
import io.github.grad4j.experiments.meta.data.ShotMode;
import io.github.grad4j.io.SafeTensors;
import io.github.grad4j.optim.Adam;
import io.github.grad4j.optim.TrainingCheckpoint;
import io.github.grad4j.report.CsvReader;
import io.github.grad4j.report.CsvWriter;
import io.github.grad4j.report.LinePlot;
import io.github.grad4j.report.Progress;
import io.github.grad4j.tensor.Rng;
import io.github.grad4j.tensor.Tensor;

import java.io.IOException;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Runners for MAML, Meta-SGD and Bayesian-TAML on any-shot Omniglot (meta-train on the minimal split
 * small1, meta-test on small2) with Fashion-MNIST as the out-of-distribution test set. Library entry
 * points for the CLI: {@link #train}, {@link #eval} and {@link #bench} take the command's arguments
 * and return an exit code ({@link Main#OK}, ...); {@code --help} lists the options.
 */
public final class MetaLearningRunner {
    private MetaLearningRunner() {
    }

    private static Options options(String usage) {
        return new Options(usage)
                .option("--method", "maml|metasgd|btaml", "meta-learner", "btaml")
                .flag("--no-omega", "Bayesian-TAML ablation: no class-imbalance weights")
                .flag("--no-gamma", "Bayesian-TAML ablation: no per-layer step scales")
                .flag("--no-z", "Bayesian-TAML ablation: no initialization modulation")
                .flag("--first-order", "detach inner gradients (first-order approximation)")
                .option("--omniglot", "DIR", "folder with the Omniglot zips (default ../shared/data/omniglot, "
                        + "or -Dgrad4j.shared=DIR)", null)
                .option("--train-split", "NAME", "meta-train split", "images_background_small1.zip")
                .option("--test-split", "NAME", "meta-test split", "images_background_small2.zip")
                .option("--fashion-mnist", "DIR", "Fashion-MNIST IDX folder for OOD tests ('none' skips)",
                        FashionMnist.defaultDirectory().toString())
                .option("--ways", "N", "classes per task", "5")
                .option("--max-shot", "K", "any-shot: shots per class drawn from 1..K", "5")
                .option("--queries", "Q", "queries per class", "15")
                .option("--filters", "F", "Conv-4 filters", "32")
                .option("--inner-lr", "A", "inner step size; for Meta-SGD and Bayesian-TAML the initial per-parameter step sizes "
                        + "(default: " + MAML_INNER_LR + " for MAML, 0.01 for the others as in the l2b code)", null)
                .option("--inner-steps", "S", "inner steps at meta-train", "5")
                .option("--test-inner-steps", "S", "inner steps at meta-test", "10")
                .option("--test-samples", "M", "Monte Carlo samples of the balancing variables at meta-test", "10")
                .option("--meta-batch", "B", "tasks per meta-update", "4")
                .option("--outer-lr", "LR", "Adam learning rate", "1e-3")
                .option("--dtype", "float32|float64", "working precision", "float32")
                .common("runs/maml");
    }

    private static MetaLearnerConfig config(Options o) {
        int maxShot = o.integer("--max-shot");
        MetaLearnerConfig c;
        switch (o.string("--method")) {
            case "maml" -> c = MetaLearnerConfig.maml(MAML_INNER_LR, maxShot);
            case "metasgd" -> c = MetaLearnerConfig.metaSgd(maxShot);
            case "btaml" -> c = MetaLearnerConfig.bayesianTaml(maxShot)
                    .withBalancing(!o.has("--no-omega"), !o.has("--no-gamma"), !o.has("--no-z"));
            default -> throw new UsageException("--method must be maml, metasgd or btaml, got '" + o.string("--method") + "'");
        }
        if (!o.string("--method").equals("btaml") && (o.has("--no-omega") || o.has("--no-gamma") || o.has("--no-z"))) {
            throw new UsageException("--no-omega / --no-gamma / --no-z apply to --method btaml only");
        }
        if (o.has("--inner-lr")) c = c.withInnerLr(o.real("--inner-lr"));
        return c.withInnerSteps(o.integer("--inner-steps"), o.integer("--test-inner-steps"))
                .withFirstOrder(o.has("--first-order")).withTestSamples(o.integer("--test-samples"));
    }

    private static DType dtype(Options o) {
        return switch (o.string("--dtype")) {
            case "float32" -> DType.FLOAT32;
            case "float64" -> DType.FLOAT64;
            default -> throw new UsageException("--dtype must be float32 or float64");
        };
    }

    private static Path omniglotDir(Options o) {
        String dir = o.stringOrNull("--omniglot");
        if (dir != null) return Path.of(dir);
        String shared = System.getProperty("grad4j.shared");
        return (shared == null || shared.isBlank() ? Path.of("..", "shared") : Path.of(shared)).resolve("data").resolve("omniglot");
    }

    /**
     * MAML's default inner step size. 0.1 rather than MAML's Omniglot 0.4: with 5 inner steps and
     * batch statistics, 0.5 left the query accuracy at 0.44 after 30 meta-batches where 0.1 reached
     * 0.79 (one probe each, any-shot 5-way, seed 1; see docs/bayesian-taml.md).
     */
    static final double MAML_INNER_LR = 0.1;

    /** The resumable training state in a run folder. */
    public static final String TRAINING_CHECKPOINT = "training.safetensors";

    private static ImageDataset omniglot(Options o, String split) throws IOException {
        Path p = omniglotDir(o).resolve(o.string(split));
        if (!Files.exists(p)) {
            throw new IllegalArgumentException("Omniglot split not found at " + p.toAbsolutePath().normalize()
                    + " (give --omniglot DIR or -Dgrad4j.shared=DIR)");
        }
        return OmniglotLoader.load(p);
    }

    /** "key value, key value" with values to two decimals (rank correlations per layer or shot mode). */
    static String formatRho(Map<?, Double> rho) {
        StringBuilder sb = new StringBuilder();
        for (Map.Entry<?, Double> e : rho.entrySet()) {
            sb.append(sb.length() == 0 ? "" : ", ").append(e.getKey()).append(String.format(" %.2f", e.getValue()));
        }
        return sb.toString();
    }

    /**
     * The meta-test split without the alphabets it shares with the meta-train split (the minimal
     * splits share Greek and Latin, character for character): test classes must be unseen.
     */
    private static ImageDataset testOmniglot(Options o, PrintStream out) throws IOException {
        ImageDataset test = omniglot(o, "--test-split");
        java.util.Set<String> shared = new java.util.LinkedHashSet<>(test.groups());
        shared.retainAll(omniglot(o, "--train-split").groups());
        if (shared.isEmpty()) return test;
        out.println("meta-test: leaving out the alphabets " + String.join(", ", shared) + " of " + o.string("--test-split")
                + ", which " + o.string("--train-split") + " also contains");
        return test.withoutGroups(shared);
    }

    /** What meta-training and its benchmark both start from: data, learner, episodes and the outer optimizer. */
    private record MetaTraining(long seed, Rng rng, ImageDataset data, MetaLearner learner, EpisodeSampler sampler, Adam adam) {
        static MetaTraining of(Options o) throws IOException {
            long seed = o.longValue("--seed");
            Rng rng = new Rng(seed);
            ImageDataset data = omniglot(o, "--train-split");
            MetaLearner learner = MetaLearningRunner.learner(o, data, rng);
            return new MetaTraining(seed, rng, data, learner, new EpisodeSampler(data, spec(o), seed),
                    new Adam(learner.metaParameters(), o.real("--outer-lr")));
        }
    }

    private static MetaLearner learner(Options o, ImageDataset data, Rng rng) {
        Devices.select(o.string("--device"), System.err);
        DType dtype = dtype(o);
        BaseNetwork net = BaseNetwork.conv4(1, data.height(), o.integer("--filters"), o.integer("--ways"), rng, dtype);
        return new MetaLearner(net, config(o), rng, dtype);
    }

    private static EpisodeSpec spec(Options o) {
        return EpisodeSpec.anyShot(o.integer("--ways"), o.integer("--max-shot"), o.integer("--queries"));
    }

    /**
     * {@code train}: meta-trains for {@code --iterations} meta-batches, writes {@code train.csv},
     * {@code meta_parameters.safetensors}, then meta-tests like {@link #eval}.
     */
    public static int train(String[] args) throws IOException {
        return train(args, System.out);
    }

    public static int train(String[] args, PrintStream out) throws IOException {
        // --device sets the default backend for the run; the caller gets its own back afterwards
        try (var ignored = io.github.grad4j.tensor.Backends.keepDefault()) {
            return trainRun(args, out);
        }
    }

    private static int trainRun(String[] args, PrintStream out) throws IOException {
        Options o = options("fewshot train --method maml|metasgd|btaml [options]")
                .option("--iterations", "N", "meta-batches to train", "100")
                .option("--test-tasks", "N", "test tasks per test set after training (0: none)", "100")
                .option("--checkpoint-every", "N", "write " + TRAINING_CHECKPOINT + " (atomically) every N meta-batches", "25")
                .flag("--resume", "continue the run in --out from its last checkpoint (same settings; --iterations may grow)")
                .parse(args);
        if (o.helpRequested()) {
            out.print(o.help("Meta-trains MAML / Meta-SGD / Bayesian-TAML on any-shot Omniglot small1."));
            return Main.OK;
        }
        config(o); // a wrong method or ablation is a usage error before any data is read
        MetaTraining setup = MetaTraining.of(o);
        long seed = setup.seed();
        MetaLearner learner = setup.learner();
        Adam adam = setup.adam();
        Path outDir = o.path("--out");
        Path checkpoint = outDir.resolve(TRAINING_CHECKPOINT);
        String settings = trainingSettings(o);
        int iterations = o.integer("--iterations"), batch = o.integer("--meta-batch");
        int every = o.integer("--checkpoint-every");
        if (every < 1) throw new UsageException("--checkpoint-every must be at least 1, got " + every);
        List<double[]> log = new ArrayList<>();
        long done = 0;
        if (o.has("--resume")) {
            if (!Files.exists(checkpoint)) {
                throw new IllegalArgumentException("--resume: no " + TRAINING_CHECKPOINT + " in " + outDir.toAbsolutePath());
            }
            TrainingCheckpoint.Restored restored = TrainingCheckpoint.load(checkpoint, learner.metaParameters(), adam, Map.of());
            String saved = restored.metadata().getOrDefault("settings", "");
            if (!saved.equals(settings)) {
                throw new IllegalArgumentException("--resume: " + checkpoint + " was trained with other settings:\n  saved: "
                        + saved + "\n  now:   " + settings);
            }
            done = restored.step();
            log = readTrainLog(outDir.resolve("train.csv"), done);
            out.printf("resuming %s after meta-batch %d of %d%n", outDir, done, iterations);
        } else if (Files.exists(checkpoint)) {
            throw new IllegalArgumentException(outDir.toAbsolutePath() + " already holds a training run (" + TRAINING_CHECKPOINT
                    + "); use --resume to continue it or choose another --out");
        }
        Files.createDirectories(outDir);
        double secondsBefore = log.isEmpty() ? 0 : log.get(log.size() - 1)[4];
        long start = System.nanoTime();
        Progress progress = Progress.builder(iterations).unitName("meta-batch").out(out).build();
        for (long it = done + 1; it <= iterations; it++) {
            // each meta-batch's tasks and noise depend only on (seed, iteration): a resumed run sees what an
            // uninterrupted one would have
            EpisodeSampler sampler = new EpisodeSampler(setup.data(), spec(o), iterationSeed(seed, it, 1));
            List<Task> tasks = new ArrayList<>();
            for (int b = 0; b < batch; b++) tasks.add(Task.from(sampler.next(), learner.dtype()));
            MetaLearner.StepStats s = learner.metaTrainStep(tasks, adam, new Rng(iterationSeed(seed, it, 2)));
            if (!Double.isFinite(s.queryLoss())) {
                out.println("diverged at iteration " + it + ": query loss " + s.queryLoss() + " (last checkpoint in " + outDir + ")");
                return Main.FAILURE;
            }
            double seconds = secondsBefore + (System.nanoTime() - start) / 1e9;
            log.add(new double[]{it, s.queryLoss(), s.kl(), s.accuracy(), seconds});
            progress.metric("loss", String.format("%.4f", s.queryLoss())).metric("acc", String.format("%.3f", s.accuracy()));
            if (learner.config().omega() || learner.config().gamma() || learner.config().z()) {
                progress.metric("kl", String.format("%.2f", s.kl()));
            }
            progress.update(it, 1);
            if (it % every == 0 || it == iterations) saveTraining(o, learner, adam, it, settings, log, outDir);
        }
        progress.finish();
        if (done >= iterations) saveTraining(o, learner, adam, done, settings, log, outDir);
        Map<String, Tensor> state = new LinkedHashMap<>(learner.metaParameters());
        SafeTensors.save(outDir.resolve("meta_parameters.safetensors"), state,
                Map.of("method", o.string("--method"), "seed", Long.toString(seed)));
        int testTasks = o.integer("--test-tasks");
        if (testTasks > 0) metaTest(o, learner, testTasks, outDir, out);
        return Main.OK;
    }

    /** The training state, every N meta-batches: meta-parameters, Adam, step (one atomic file), train.csv and train.png. */
    private static void saveTraining(Options o, MetaLearner learner, Adam adam, long step, String settings, List<double[]> log,
                                     Path outDir) throws IOException {
        TrainingCheckpoint.save(outDir.resolve(TRAINING_CHECKPOINT), learner.metaParameters(), adam, step, Map.of(),
                Map.of("settings", settings, "method", o.string("--method")));
        CsvWriter csv = new CsvWriter("iteration", "query_loss", "kl", "query_accuracy", "seconds");
        for (double[] r : log) csv.row((long) r[0], r[1], r[2], r[3], r[4]);
        csv.write(outDir.resolve("train.csv"));
        if (log.size() >= 2) {
            double[] x = new double[log.size()], loss = new double[log.size()], accuracy = new double[log.size()];
            for (int i = 0; i < x.length; i++) {
                x[i] = log.get(i)[0];
                loss[i] = log.get(i)[1];
                accuracy[i] = log.get(i)[3];
            }
            new LinePlot().size(760, 420).title(o.string("--method") + " meta-training: query loss and accuracy per meta-batch")
                    .xLabel("meta-batch").yLabel("query loss / accuracy").series("query loss", x, loss)
                    .series("query accuracy", x, accuracy).writePng(outDir.resolve("train.png"));
        }
    }

    /** The rows of a train.csv up to {@code step} (a crash after a checkpoint may have left none beyond it). */
    private static List<double[]> readTrainLog(Path csv, long step) throws IOException {
        List<double[]> rows = new ArrayList<>();
        if (!Files.exists(csv)) return rows;
        for (double[] r : CsvReader.numbers(csv, 5)) if (r[0] <= step) rows.add(r);
        return rows;
    }

    /** What must match for --resume: every option that changes the training trajectory. */
    private static String trainingSettings(Options o) {
        StringBuilder sb = new StringBuilder();
        for (String name : List.of("--method", "--train-split", "--ways", "--max-shot", "--queries", "--filters", "--inner-lr",
                "--inner-steps", "--meta-batch", "--outer-lr", "--dtype", "--seed")) {
            String value = o.stringOrNull(name);
            sb.append(name).append('=').append(value == null ? "default" : value).append(' ');
        }
        for (String flag : List.of("--no-omega", "--no-gamma", "--no-z", "--first-order")) if (o.has(flag)) sb.append(flag).append(' ');
        return sb.toString().trim();
    }

    /** A seed for one meta-batch's tasks ({@code stream} 1) or noise ({@code stream} 2), from the run's seed. */
    static long iterationSeed(long seed, long iteration, int stream) {
        long z = seed * 0x9E3779B97F4A7C15L + iteration * 0xBF58476D1CE4E5B9L + stream * 0x94D049BB133111EBL;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** {@code eval}: loads {@code --checkpoint} and meta-tests on Omniglot small2 and Fashion-MNIST. */
    public static int eval(String[] args) throws IOException {
        return eval(args, System.out);
    }

    public static int eval(String[] args, PrintStream out) throws IOException {
        // --device sets the default backend for the run; the caller gets its own back afterwards
        try (var ignored = io.github.grad4j.tensor.Backends.keepDefault()) {
            return evalRun(args, out);
        }
    }

    private static int evalRun(String[] args, PrintStream out) throws IOException {
        Options o = options("fewshot eval --method maml|metasgd|btaml --checkpoint FILE [options]")
                .option("--checkpoint", "FILE", "meta_parameters.safetensors written by train", null)
                .option("--test-tasks", "N", "test tasks per test set", "100")
                .parse(args);
        if (o.helpRequested()) {
            out.print(o.help("Meta-tests a trained learner with 95% confidence intervals."));
            return Main.OK;
        }
        config(o); // a wrong method or ablation is a usage error before any data is read
        Rng rng = new Rng(o.longValue("--seed"));
        ImageDataset testData = omniglot(o, "--test-split");
        MetaLearner learner = learner(o, testData, rng);
        Map<String, Tensor> saved = SafeTensors.load(o.path("--checkpoint"));
        Map<String, Tensor> own = learner.metaParameters();
        if (!saved.keySet().equals(own.keySet())) {
            throw new IllegalArgumentException("checkpoint holds " + saved.keySet().size() + " tensors that do not match this "
                    + "--method / ablation's " + own.size() + " meta-parameters (e.g. missing "
                    + own.keySet().stream().filter(k -> !saved.containsKey(k)).findFirst().orElse("-") + ")");
        }
        try (var ignored = io.github.grad4j.autograd.GradMode.noGrad()) {
            for (Map.Entry<String, Tensor> e : own.entrySet()) {
                Tensor src = saved.get(e.getKey());
                e.getValue().assign(src.dtype() == e.getValue().dtype() ? src : src.toDType(e.getValue().dtype()));
            }
        }
        Path outDir = o.path("--out");
        Files.createDirectories(outDir);
        metaTest(o, learner, o.integer("--test-tasks"), outDir, out);
        return Main.OK;
    }

    private static void metaTest(Options o, MetaLearner learner, int tasks, Path outDir, PrintStream out) throws IOException {
        long seed = o.longValue("--seed");
        BalancingLog balancing = new BalancingLog();
        CsvWriter perTask = MetaEvaluation.taskCsv();
        CsvWriter summary = new CsvWriter("dataset", "shot_mode", "tasks", "mean_accuracy", "ci95");
        List<MetaEvaluation.Summary> results = new ArrayList<>();
        // fixed test seeds, independent of training, so every method sees the same test tasks
        EpisodeSampler id = new EpisodeSampler(testOmniglot(o, out), spec(o), seed + 1_000_003);
        out.println("meta-test on " + tasks + " Omniglot tasks" + (learner.config().testSamples() > 1
                ? " (" + learner.config().testSamples() + " Monte Carlo samples each)" : ""));
        Progress omniglotProgress = Progress.builder(tasks).unitName("task").out(out).build();
        results.add(MetaEvaluation.evaluate("omniglot-" + o.string("--test-split"), learner, id, tasks,
                new Rng(seed + 17), perTask, balancing, t -> omniglotProgress.update(t + 1, 1)));
        omniglotProgress.finish();
        String fashion = o.string("--fashion-mnist");
        if (!fashion.equals("none")) {
            ImageDataset fm = FashionMnist.load(Path.of(fashion), FashionMnist.Split.TEST, learner.base().imageSize());
            EpisodeSampler ood = new EpisodeSampler(fm, spec(o), seed + 2_000_003);
            out.println("meta-test on " + tasks + " Fashion-MNIST tasks");
            Progress fashionProgress = Progress.builder(tasks).unitName("task").out(out).build();
            results.add(MetaEvaluation.evaluate("fashion-mnist", learner, ood, tasks, new Rng(seed + 19), perTask,
                    balancing, t -> fashionProgress.update(t + 1, 1)));
            fashionProgress.finish();
        }
        for (MetaEvaluation.Summary s : results) {
            out.println("meta-test " + s);
            summary.row(s.dataset(), "all", s.tasks(), s.meanAccuracy(), s.ci95());
            // the two kinds of any-shot task separately (class-imbalanced / task-imbalanced)
            for (String mode : List.of(ShotMode.CLASS_IMBALANCED.toString(), ShotMode.TASK_IMBALANCED.toString())) {
                MetaEvaluation.Summary m = s.ofShotMode(mode);
                if (m == null) continue;
                out.printf("  %s tasks: %.2f%% ± %.2f%% over %d%n", mode, 100 * m.meanAccuracy(), 100 * m.ci95(), m.tasks());
                summary.row(s.dataset(), mode, m.tasks(), m.meanAccuracy(), m.ci95());
            }
        }
        summary.write(outDir.resolve("meta_test.csv"));
        perTask.write(outDir.resolve("test_tasks.csv"));
        balancing.write(outDir);
        for (String dataset : balancing.datasets()) {
            if (!balancing.gammaSizeCorrelation(dataset).isEmpty()) {
                out.println("  " + dataset + ": Spearman rho of exp(gamma) with support size, per layer: "
                        + formatRho(balancing.gammaSizeCorrelation(dataset)));
            }
            if (!balancing.omegaShotCorrelation(dataset).isEmpty()) {
                out.println("  " + dataset + ": Spearman rho of softmax(omega) with class shots, per shot mode: "
                        + formatRho(balancing.omegaShotCorrelation(dataset)));
            }
        }
    }

    /**
     * {@code bench}: time per meta-batch and heap for second-order meta-training at the real setting.
     * Memory: the sum over heap memory pools of their peak usage ({@link MemoryPoolMXBean#getPeakUsage},
     * reset after warm-up; an upper bound that includes garbage not yet collected), and the heap in
     * use after {@code System.gc()} (Runtime total - free) while one task's graph is alive: the live
     * cost of the second-order graph.
     */
    public static int bench(String[] args) throws IOException {
        return bench(args, System.out);
    }

    public static int bench(String[] args, PrintStream out) throws IOException {
        // --device sets the default backend for the run; the caller gets its own back afterwards
        try (var ignored = io.github.grad4j.tensor.Backends.keepDefault()) {
            return benchRun(args, out);
        }
    }

    private static int benchRun(String[] args, PrintStream out) throws IOException {
        Options o = options("bench meta --method maml|metasgd|btaml [options]")
                .option("--steps", "N", "timed meta-batches after one warm-up", "3")
                .flag("--profile", "time one more meta-batch with the per-kernel profiler on and print the breakdown")
                .parse(args);
        if (o.helpRequested()) {
            out.print(o.help("Measures time and heap per meta-batch."));
            return Main.OK;
        }
        config(o); // a wrong method or ablation is a usage error before any data is read
        MetaTraining setup = MetaTraining.of(o);
        Rng rng = setup.rng();
        MetaLearner learner = setup.learner();
        EpisodeSampler sampler = setup.sampler();
        Adam adam = setup.adam();
        int batch = o.integer("--meta-batch"), steps = o.integer("--steps");
        Rng noise = rng.fork();
        List<List<Task>> batches = new ArrayList<>();
        for (int i = 0; i <= steps; i++) {
            List<Task> tasks = new ArrayList<>();
            for (int b = 0; b < batch; b++) tasks.add(Task.from(sampler.next(), learner.dtype()));
            batches.add(tasks);
        }
        long t0 = System.nanoTime();
        learner.metaTrainStep(batches.get(0), adam, noise);
        double warmup = (System.nanoTime() - t0) / 1e9;
        long retainedBefore = heapAfterGc();
        resetPeaks();
        double[] seconds = new double[steps];
        int supportTotal = 0;
        for (int i = 1; i <= steps; i++) {
            for (Task t : batches.get(i)) supportTotal += t.supportSize();
            long s = System.nanoTime();
            learner.metaTrainStep(batches.get(i), adam, noise);
            seconds[i - 1] = (System.nanoTime() - s) / 1e9;
        }
        long peak = peakHeap();
        String profile = null;
        if (o.has("--profile")) {
            io.github.grad4j.backend.Profiler.enable();
            long s = System.nanoTime();
            learner.metaTrainStep(batches.get(1), adam, noise);
            double wall = (System.nanoTime() - s) / 1e9;
            io.github.grad4j.backend.Profiler.disable();
            profile = String.format("profile of one more meta-batch (%.2f s wall with the profiler on), by kernel:%n", wall)
                    + io.github.grad4j.bench.Measure.profileTable(1, wall, 25);
        }
        long retainedAfter = heapAfterGc();
        // the live cost of second order: one task's graph (all inner steps) held while measuring
        Task probe = batches.get(1).get(0);
        MetaLearner.Outcome alive = learner.metaObjective(probe, noise);
        long withGraph = heapAfterGc();
        alive.objective().backward();
        learner.metaParameters().values().forEach(p -> p.setGrad(null));
        java.util.Arrays.sort(seconds);
        MetaLearnerConfig c = learner.config();
        out.printf("setting: %s, Conv-4 %d filters, %d-way any-shot up to %d shots (mean support %.1f), %d queries/class, "
                        + "meta-batch %d, %d inner steps, %s, %s, backend %s, %d cores%n",
                o.string("--method"), o.integer("--filters"), o.integer("--ways"), o.integer("--max-shot"),
                (double) supportTotal / (steps * batch), o.integer("--queries"), batch, c.innerStepsTrain(),
                c.firstOrder() ? "first order" : "second order", learner.dtype(),
                Tensor.zeros(learner.dtype(), 1).backend().name(), Runtime.getRuntime().availableProcessors());
        out.printf("time per meta-batch: median %.2f s (min %.2f, max %.2f) over %d; warm-up %.2f s%n",
                seconds[steps / 2], seconds[0], seconds[steps - 1], steps, warmup);
        out.printf("peak heap during the timed steps (sum of heap pool peaks): %.1f MiB; heap after GC: %.1f MiB before, "
                + "%.1f MiB after; -Xmx %.0f MiB%n", peak / 1048576.0, retainedBefore / 1048576.0,
                retainedAfter / 1048576.0, Runtime.getRuntime().maxMemory() / 1048576.0);
        out.printf("live heap after GC with one task's meta-objective graph alive (support %d, query %d): %.1f MiB "
                + "(%.1f MiB above the idle heap)%n", probe.supportSize(), probe.querySize(), withGraph / 1048576.0,
                (withGraph - retainedAfter) / 1048576.0);
        if (profile != null) out.print(profile);
        return Main.OK;
    }

    private static long heapAfterGc() {
        System.gc();
        Runtime r = Runtime.getRuntime();
        return r.totalMemory() - r.freeMemory();
    }

    private static void resetPeaks() {
        for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans()) {
            if (p.getType() == MemoryType.HEAP) p.resetPeakUsage();
        }
    }

    private static long peakHeap() {
        long sum = 0;
        for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans()) {
            if (p.getType() == MemoryType.HEAP) sum += p.getPeakUsage().getUsed();
        }
        return sum;
    }
}
