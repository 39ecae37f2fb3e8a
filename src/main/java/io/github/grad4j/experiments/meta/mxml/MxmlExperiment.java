package io.github.grad4j.experiments.meta.mxml;

import io.github.grad4j.experiments.meta.FewShotConfig;
import io.github.grad4j.experiments.meta.FewShotEvaluator;
import io.github.grad4j.experiments.meta.FewShotModel;
import io.github.grad4j.experiments.meta.FewShotTrainer;
import io.github.grad4j.experiments.meta.Tpn;
import io.github.grad4j.experiments.meta.data.ClassSplits;
import io.github.grad4j.experiments.meta.data.EpisodeSpec;
import io.github.grad4j.experiments.meta.data.FashionMnist;
import io.github.grad4j.experiments.meta.data.ImageDataset;
import io.github.grad4j.experiments.meta.data.OmniglotLoader;
import io.github.grad4j.io.AtomicFiles;
import io.github.grad4j.io.Json;
import io.github.grad4j.report.BarChart;
import io.github.grad4j.report.CsvWriter;
import io.github.grad4j.report.HeatMap;
import io.github.grad4j.report.MarkdownTable;
import io.github.grad4j.report.Progress;
import io.github.grad4j.report.ReportWriter;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The MxML experiment end to end: three prototypical learners, each meta-trained on a different
 * task distribution built from real data, a learner trained on their union, the WPN over the three,
 * and a paired evaluation of all methods in and out of distribution.
 *
 * <p>Task distributions (chosen so the learners genuinely differ and so one source stays unseen):
 * <ul>
 *   <li><b>omniglot-A</b>: the five alphabets of {@code images_background_small1} (Balinese,
 *       Early Aramaic, Greek, Korean, Latin); of its 136 characters 30 are held out for testing and
 *       20 for the WPN's validation episodes.</li>
 *   <li><b>omniglot-B</b>: Japanese (katakana) and Sanskrit from {@code images_background_small2},
 *       the alphabets of small2 that small1 lacks (Greek and Latin are in both minimal splits, so
 *       they are left out); of the 89 characters 20 are held out for testing and 15 for validation.</li>
 *   <li><b>fashion</b>: Fashion-MNIST garments, a different domain; classes 0-4 (T-shirt, trouser,
 *       pullover, dress, coat; training images 0-999 of each) for training, classes 5-9 (sandal,
 *       shirt, sneaker, bag, ankle boot; test images) held out. With only ten classes there are none
 *       to spare for validation: the WPN's validation episodes use training images 1000-1999 of
 *       classes 0-4, which the learner never saw.</li>
 *   <li><b>tagalog (OOD)</b>: Tagalog, the remaining alphabet of small2, seen by no learner and not by
 *       the WPN: the out-of-distribution test.</li>
 * </ul>
 * Every episode is 5-way K-shot from one source. Two WPNs are trained over the same frozen learners,
 * both on episodes drawn uniformly over the three sources: one on the learners' own training
 * classes, one on the validation classes (where each learner is as good as it will be on new
 * classes, not as good as on classes it was fitted to). Both are tested on the held-out classes.
 */
public final class MxmlExperiment {
    public static final String SMALL1 = "images_background_small1.zip";
    public static final String SMALL2 = "images_background_small2.zip";
    public static final List<String> OMNIGLOT_B_ALPHABETS = List.of("Japanese_(katakana)", "Sanskrit");
    public static final String OOD_ALPHABET = "Tagalog";
    /** Fashion-MNIST images kept per class: far more than episodes need, and quick to load. */
    private static final int FASHION_IMAGES_PER_CLASS = 1000;

    /**
     * Sizes of a run.
     *
     * @param learnerEpisodes training episodes of each base learner
     * @param unionEpisodes   training episodes of the union learner (default: all base learners' together,
     *                        the same compute)
     */
    public record Settings(String label, String learnerMethod, int ways, int shots, int queries, int filters,
                           int learnerEpisodes, int unionEpisodes, double learnerLearningRate, MxmlTrainer.Settings wpn,
                           int testEpisodes, long seed) {
        public Settings {
            if (!learnerMethod.equals("protonet") && !learnerMethod.equals("tpn")) {
                throw new IllegalArgumentException("MxML learners must be protonet or tpn, got '" + learnerMethod + "'");
            }
        }

        /** A few minutes on two CPU cores: short training, 32 filters, 100 test episodes. */
        public static Settings quick(long seed) {
            return new Settings("quick (short training)", "protonet", 5, 5, 10, 32, 150, 450, 2e-3,
                    new MxmlTrainer.Settings(120, 15, 32, 3e-3, seed), 100, seed);
        }

        /** Longer runs: 64 filters, 2000 episodes per learner, 600 test episodes (hours on a CPU). */
        public static Settings full(long seed) {
            return new Settings("full", "protonet", 5, 5, 10, 64, 2000, 6000, 1e-3,
                    new MxmlTrainer.Settings(1000, 20, 32, 1e-3, seed), 600, seed);
        }

        public EpisodeSpec spec() {
            return EpisodeSpec.fixed(ways, shots, queries);
        }

        FewShotConfig learnerConfig(int episodes, long learnerSeed) {
            return new FewShotConfig(learnerMethod, ways, shots, queries, false, filters, 28, episodes,
                    learnerLearningRate, Integer.MAX_VALUE, Integer.MAX_VALUE, 0, Tpn.DEFAULT_K, Tpn.DEFAULT_ALPHA,
                    false, learnerSeed);
        }

        public Map<String, Object> toMap() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("label", label);
            m.put("learner_method", learnerMethod);
            m.put("ways", (long) ways);
            m.put("shots", (long) shots);
            m.put("queries", (long) queries);
            m.put("filters", (long) filters);
            m.put("learner_episodes", (long) learnerEpisodes);
            m.put("union_episodes", (long) unionEpisodes);
            m.put("learner_learning_rate", learnerLearningRate);
            m.put("wpn", wpn.toMap());
            m.put("test_episodes", (long) testEpisodes);
            m.put("seed", seed);
            return m;
        }
    }

    /** A named dataset; {@code outOfDistribution} marks test data no learner saw. */
    public record Named(String name, ImageDataset data, boolean outOfDistribution) {
    }

    /**
     * Training sources (one per base learner), validation sources (the same task distributions on
     * classes or images the learners do not train on; for the WPN) and test distributions.
     */
    public record Data(List<Named> training, List<Named> validation, List<Named> tests) {
        public Data {
            if (validation.size() != training.size()) {
                throw new IllegalArgumentException("MxML data: " + validation.size() + " validation sources for "
                        + training.size() + " training sources");
            }
        }
    }

    /** The WPN trained on episodes of the learners' training classes. */
    public static final String WPN_TRAINING = "MxML (WPN, train classes)";
    /** The WPN trained on episodes of validation classes. */
    public static final String WPN_VALIDATION = "MxML (WPN, val. classes)";

    /** What a run measured. */
    public record Outcome(List<String> learners, Map<String, MxmlEvaluation.Result> results,
                          Map<String, MxmlTrainer.Outcome> wpnTraining, Map<String, Double> seconds) {
    }

    private MxmlExperiment() {
    }

    /**
     * Loads and splits the data (see the class comment). Class splits are seeded, so the same seed
     * gives the same held-out characters.
     */
    public static Data loadData(Path omniglotDir, long seed) throws IOException {
        Path small1Path = omniglotDir.resolve(SMALL1);
        Path small2Path = omniglotDir.resolve(SMALL2);
        for (Path p : List.of(small1Path, small2Path)) {
            if (!Files.exists(p)) {
                throw new NoSuchFileException(p.toAbsolutePath().normalize()
                        + " (Omniglot minimal split; give --omniglot DIR or -Dgrad4j.shared=DIR)");
            }
        }
        ImageDataset small1 = OmniglotLoader.load(small1Path);
        ImageDataset small2 = OmniglotLoader.load(small2Path);
        ClassSplits.Split a = ClassSplits.byClass(small1, small1.classCount() - 30 - 20, 20, seed);
        ImageDataset bAll = DataSources.groups(small2, OMNIGLOT_B_ALPHABETS);
        ClassSplits.Split b = ClassSplits.byClass(bAll, bAll.classCount() - 20 - 15, 15, seed);
        ImageDataset tagalog = DataSources.groups(small2, List.of(OOD_ALPHABET));
        ImageDataset fashionTrainAll = FashionMnist.load(FashionMnist.defaultDirectory(), FashionMnist.Split.TRAIN, 28)
                .subset("fashion-mnist:train#0-4", List.of(0, 1, 2, 3, 4));
        ImageDataset fashionA = DataSources.imageRange(fashionTrainAll, 0, FASHION_IMAGES_PER_CLASS,
                "fashion-mnist:train#0-4[0,1000)");
        ImageDataset fashionValidation = DataSources.imageRange(fashionTrainAll, FASHION_IMAGES_PER_CLASS,
                2 * FASHION_IMAGES_PER_CLASS, "fashion-mnist:train#0-4[1000,2000)");
        ImageDataset fashionTest = FashionMnist.load(FashionMnist.defaultDirectory(), FashionMnist.Split.TEST, 28);
        ImageDataset fashionB = fashionTest.subset("fashion-mnist:test#5-9", List.of(5, 6, 7, 8, 9));
        return new Data(
                List.of(new Named("omniglot-A", a.train(), false), new Named("omniglot-B", b.train(), false),
                        new Named("fashion", fashionA, false)),
                List.of(new Named("omniglot-A validation", a.validation(), false),
                        new Named("omniglot-B validation", b.validation(), false),
                        new Named("fashion validation images", fashionValidation, false)),
                List.of(new Named("omniglot-A held-out", a.test(), false),
                        new Named("omniglot-B held-out", b.test(), false),
                        new Named("fashion held-out", fashionB, false),
                        new Named("tagalog (OOD)", tagalog, true)));
    }

    /** Trains everything into {@code out} (learners/, union/, mxml/) and writes the report there. */
    public static Outcome run(Settings settings, Data data, Path out, PrintStream log) throws IOException {
        Files.createDirectories(out);
        Map<String, Double> seconds = new LinkedHashMap<>();
        EpisodeSpec spec = settings.spec();
        List<FrozenLearner> learners = new ArrayList<>();
        for (int i = 0; i < data.training().size(); i++) {
            Named source = data.training().get(i);
            Path folder = out.resolve("learners").resolve(source.name());
            log.printf("learner %s: %s, %d episodes%n", source.name(), source.data(), settings.learnerEpisodes());
            long t = System.nanoTime();
            FewShotModel model = trainOrReuse(settings.learnerConfig(settings.learnerEpisodes(), settings.seed() + i),
                    new EpisodeSources(List.of(source.name()), List.of(source.data()), spec, settings.seed() + 10 + i),
                    folder, log);
            seconds.put("learner " + source.name(), (System.nanoTime() - t) / 1e9);
            learners.add(new FrozenLearner(source.name(), model, folder));
        }
        List<String> names = data.training().stream().map(Named::name).toList();
        List<ImageDataset> trainSets = data.training().stream().map(Named::data).toList();
        log.printf("union learner: %d episodes over %s%n", settings.unionEpisodes(), names);
        long t = System.nanoTime();
        FewShotModel union = trainOrReuse(settings.learnerConfig(settings.unionEpisodes(), settings.seed() + 50),
                new EpisodeSources(names, trainSets, spec, settings.seed() + 60), out.resolve("union"), log);
        seconds.put("union learner", (System.nanoTime() - t) / 1e9);

        Map<String, MxmlTrainer.Outcome> wpnTraining = new LinkedHashMap<>();
        List<ImageDataset> validationSets = data.validation().stream().map(Named::data).toList();
        for (String wpn : List.of(WPN_TRAINING, WPN_VALIDATION)) {
            boolean onValidation = wpn.equals(WPN_VALIDATION);
            log.printf("%s: %d pool episodes x %d epochs%n", wpn, settings.wpn().poolEpisodes(), settings.wpn().epochs());
            t = System.nanoTime();
            EpisodeSources pool = onValidation
                    ? new EpisodeSources(names, validationSets, spec, settings.seed() + 80)
                    : new EpisodeSources(names, trainSets, spec, settings.seed() + 70);
            wpnTraining.put(wpn, MxmlTrainer.train(learners, pool, settings.wpn(),
                    out.resolve(onValidation ? "mxml-validation" : "mxml"), log));
            seconds.put(wpn + " (analysis + training)", (System.nanoTime() - t) / 1e9);
        }
        Map<String, MxmlModel> mixtures = new LinkedHashMap<>();
        for (Map.Entry<String, MxmlTrainer.Outcome> e : wpnTraining.entrySet()) mixtures.put(e.getKey(), e.getValue().model());

        Map<String, MxmlEvaluation.Result> results = new LinkedHashMap<>();
        t = System.nanoTime();
        for (int k = 0; k < data.tests().size(); k++) {
            Named test = data.tests().get(k);
            log.printf("evaluating on %s (%s), %d episodes%n", test.name(), test.data(), settings.testEpisodes());
            Progress progress = Progress.builder(settings.testEpisodes()).unitName("ep").out(log).build();
            MxmlEvaluation.Result r = MxmlEvaluation.evaluate(mixtures, union, test.data(), spec,
                    settings.testEpisodes(), settings.seed() + 1000 + k, done -> progress.update(done, 1));
            progress.finish();
            results.put(test.name(), r);
            for (Map.Entry<String, FewShotEvaluator.Accuracy> e : r.accuracyByMethod().entrySet()) {
                log.printf("  %-22s %s%n", e.getKey(), e.getValue().describe());
            }
        }
        seconds.put("evaluation", (System.nanoTime() - t) / 1e9);
        Outcome outcome = new Outcome(names, results, wpnTraining, seconds);
        writeReport(settings, data, outcome, out);
        return outcome;
    }

    /** Reuses a finished learner folder with the same settings (so a rerun only redoes what changed). */
    private static FewShotModel trainOrReuse(FewShotConfig config, EpisodeSources sources, Path folder, PrintStream log)
            throws IOException {
        if (Files.exists(folder.resolve(FewShotTrainer.CHECKPOINT))) {
            FewShotConfig saved = FewShotTrainer.readConfig(folder);
            if (saved.equals(config)) {
                log.println("  reusing the trained learner in " + folder);
                return FewShotTrainer.loadModel(folder);
            }
            throw new IllegalArgumentException(folder + " holds a learner trained with other settings ("
                    + String.join(", ", config.differencesIgnoringEpisodes(saved))
                    + (saved.episodes() != config.episodes() ? " episodes " + saved.episodes() + " -> " + config.episodes() : "")
                    + "); choose another --out");
        }
        LearnerTrainer.Outcome outcome = LearnerTrainer.train(config, sources, folder, log);
        log.printf("  %.3f s/episode; last-50 training accuracy %.3f%n", outcome.secondsPerEpisode(),
                outcome.meanAccuracyLast50());
        return outcome.model();
    }

    /**
     * results.csv, paired.csv, weights.csv, accuracy.png, weights-*.png, report.md and
     * experiment.json in {@code out}.
     */
    static void writeReport(Settings settings, Data data, Outcome outcome, Path out) throws IOException {
        List<String> tests = new ArrayList<>(outcome.results().keySet());
        MxmlEvaluation.Result first = outcome.results().get(tests.get(0));
        List<String> methods = new ArrayList<>(first.accuracyByMethod().keySet());
        List<String> mixtures = new ArrayList<>(first.weightsByMixture().keySet());
        List<String> learners = outcome.learners();
        CsvWriter results = new CsvWriter("test_distribution", "out_of_distribution", "method", "episodes",
                "mean_accuracy", "ci95", "ci95_t", "std");
        CsvWriter paired = new CsvWriter("test_distribution", "method", "baseline", "episodes", "mean_difference",
                "ci95", "ci95_t");
        CsvWriter weights = new CsvWriter("test_distribution", "mixture", "learner", "mean_weight", "std_weight");
        String[] header = new String[methods.size() + 1];
        header[0] = "test distribution";
        for (int i = 0; i < methods.size(); i++) header[i + 1] = methods.get(i);
        MarkdownTable accuracyTable = new MarkdownTable(header);
        MarkdownTable pairedTable = new MarkdownTable("test distribution", "method", "- uniform ensemble",
                "- best single learner", "- union learner");
        String[] weightHeader = new String[learners.size() + 1];
        weightHeader[0] = "test distribution";
        for (int i = 0; i < learners.size(); i++) weightHeader[i + 1] = "w(" + learners.get(i) + ")";
        Map<String, MarkdownTable> weightTables = new LinkedHashMap<>();
        Map<String, double[][]> weightMatrices = new LinkedHashMap<>();
        for (String mixture : mixtures) {
            weightTables.put(mixture, new MarkdownTable(weightHeader));
            weightMatrices.put(mixture, new double[tests.size()][]);
        }
        double[][] means = new double[methods.size()][tests.size()];
        double[][] errors = new double[methods.size()][tests.size()];
        for (int k = 0; k < tests.size(); k++) {
            String test = tests.get(k);
            boolean ood = data.tests().get(k).outOfDistribution();
            MxmlEvaluation.Result r = outcome.results().get(test);
            Object[] row = new Object[methods.size() + 1];
            row[0] = test;
            for (int i = 0; i < methods.size(); i++) {
                FewShotEvaluator.Accuracy a = r.accuracyByMethod().get(methods.get(i));
                results.row(test, ood, methods.get(i), a.episodes(), a.mean(), a.ci95(), a.ci95T(), a.std());
                row[i + 1] = String.format("%.1f ± %.1f", 100 * a.mean(), 100 * a.ci95());
                means[i][k] = a.mean();
                errors[i][k] = a.ci95();
            }
            accuracyTable.row(row);
            // best single learner on this test set, chosen after the fact (favours the baseline)
            String best = learners.get(0);
            for (String l : learners) if (r.accuracyByMethod().get(l).mean() > r.accuracyByMethod().get(best).mean()) best = l;
            for (String mixture : mixtures) {
                List<String> baselines = new ArrayList<>(List.of(MxmlEvaluation.UNIFORM, best));
                if (r.accuracyByMethod().containsKey(MxmlEvaluation.UNION)) baselines.add(MxmlEvaluation.UNION);
                Object[] pairedRow = {test, mixture, "", "", ""};
                for (int b = 0; b < baselines.size(); b++) {
                    FewShotEvaluator.Accuracy d = r.pairedDifference(mixture, baselines.get(b));
                    paired.row(test, mixture, baselines.get(b), d.episodes(), d.mean(), d.ci95(), d.ci95T());
                    pairedRow[b + 2] = String.format("%+.1f ± %.1f%s", 100 * d.mean(), 100 * d.ci95(),
                            b == 1 ? " (" + best + ")" : "");
                }
                pairedTable.row(pairedRow);
                MxmlEvaluation.Weights w = r.weightsByMixture().get(mixture);
                Object[] weightRow = new Object[learners.size() + 1];
                weightRow[0] = test;
                for (int l = 0; l < learners.size(); l++) {
                    weights.row(test, mixture, learners.get(l), w.mean()[l], w.std()[l]);
                    weightRow[l + 1] = String.format("%.3f ± %.3f", w.mean()[l], w.std()[l]);
                }
                weightTables.get(mixture).row(weightRow);
                weightMatrices.get(mixture)[k] = w.mean();
            }
        }
        results.write(out.resolve("results.csv"));
        paired.write(out.resolve("paired.csv"));
        weights.write(out.resolve("weights.csv"));

        BarChart accuracyChart = new BarChart().title("5-way " + settings.shots() + "-shot accuracy, " + settings.label())
                .yLabel("query accuracy (mean ± 95% CI)").categories(tests.toArray(new String[0])).yRange(0, 1);
        for (int i = 0; i < methods.size(); i++) accuracyChart.series(methods.get(i), means[i], errors[i]);

        ReportWriter report = new ReportWriter(out.resolve("report.md"));
        report.heading(1, "MxML experiment (" + settings.label() + ")");
        report.paragraph(String.format("Learners: %s. %d-way %d-shot, %d queries per class; Conv-4 with %d filters; %d training "
                        + "episodes per learner, %d for the union learner; each WPN on %d pool episodes x %d epochs; %d test "
                        + "episodes per distribution (the same episodes for every method). Accuracy in %%, ± the 95%% "
                        + "CI half-width 1.96·std/√n.", settings.learnerMethod(), settings.ways(), settings.shots(), settings.queries(),
                settings.filters(), settings.learnerEpisodes(), settings.unionEpisodes(), settings.wpn().poolEpisodes(),
                settings.wpn().epochs(), settings.testEpisodes()));
        report.table(accuracyTable);
        report.figure("accuracy per test distribution", accuracyChart, "accuracy.png");
        report.heading(2, "Paired differences (percentage points, same episodes, ± 1.96·std/√n of the per-episode difference)");
        report.paragraph("The best single learner is chosen per test distribution after the fact, which favours that baseline.");
        report.table(pairedTable);
        for (String mixture : mixtures) {
            report.heading(2, "Mean mixing weights of " + mixture + " (± std over episodes)");
            report.table(weightTables.get(mixture));
            HeatMap weightMap = new HeatMap().title("Mean mixing weight per test distribution, " + mixture)
                    .xLabel("learner (trained on)").yLabel("test distribution").values(weightMatrices.get(mixture))
                    .rowLabels(tests.toArray(new String[0])).columnLabels(learners.toArray(new String[0]))
                    .annotate(true).colorRange(0, 1).colorBarLabel("mean weight");
            String file = mixture.equals(WPN_VALIDATION) ? "weights-validation.png" : "weights.png";
            report.figure("mean mixing weights, " + mixture, weightMap, file);
        }
        List<String> timing = new ArrayList<>();
        for (Map.Entry<String, Double> e : outcome.seconds().entrySet()) {
            timing.add(String.format("%s: %.0f s", e.getKey(), e.getValue()));
        }
        report.heading(2, "Timings");
        report.bullets(timing);
        report.write();

        Map<String, Object> summary = new LinkedHashMap<>();
        summary.put("settings", settings.toMap());
        summary.put("training_sources", data.training().stream().map(n -> n.name() + ": " + n.data()).toList());
        summary.put("validation_sources", data.validation().stream().map(n -> n.name() + ": " + n.data()).toList());
        summary.put("test_distributions", data.tests().stream().map(n -> n.name() + ": " + n.data()).toList());
        summary.put("seconds", new LinkedHashMap<>(outcome.seconds()));
        for (Map.Entry<String, MxmlTrainer.Outcome> e : outcome.wpnTraining().entrySet()) {
            Map<String, Object> curves = new LinkedHashMap<>();
            curves.put("epoch_loss", toList(e.getValue().epochLoss()));
            curves.put("epoch_accuracy", toList(e.getValue().epochAccuracy()));
            summary.put(e.getKey(), curves);
        }
        AtomicFiles.writeString(out.resolve("experiment.json"), Json.writePretty(summary));
    }

    private static List<Double> toList(double[] values) {
        List<Double> list = new ArrayList<>();
        for (double v : values) list.add(v);
        return list;
    }
}
