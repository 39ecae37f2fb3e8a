package io.github.grad4j.cli;

import io.github.grad4j.experiments.meta.FewShotEvaluator;
import io.github.grad4j.experiments.meta.FewShotTrainer;
import io.github.grad4j.experiments.meta.data.EpisodeSpec;
import io.github.grad4j.experiments.meta.data.ImageDataset;
import io.github.grad4j.experiments.meta.mxml.DataSources;
import io.github.grad4j.experiments.meta.mxml.EpisodeSources;
import io.github.grad4j.experiments.meta.mxml.FrozenLearner;
import io.github.grad4j.experiments.meta.mxml.MxmlEvaluation;
import io.github.grad4j.experiments.meta.mxml.MxmlExperiment;
import io.github.grad4j.experiments.meta.mxml.MxmlModel;
import io.github.grad4j.experiments.meta.mxml.MxmlTrainer;
import io.github.grad4j.io.AtomicFiles;
import io.github.grad4j.io.Json;
import io.github.grad4j.report.Progress;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The MxML commands: {@code fewshot train --method mxml} (trains only the WPN over given learners),
 * {@code fewshot eval --model DIR} on an MxML folder, and {@code fewshot mxml-experiment}.
 */
final class FewShotMxml {
    private FewShotMxml() {
    }

    static boolean isMxmlMethod(String[] args) {
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--method") && i + 1 < args.length) return args[i + 1].equals("mxml");
            if (args[i].equals("--method=mxml")) return true;
        }
        return false;
    }

    /** Whether {@code --model} names an MxML folder. */
    static boolean isMxmlModel(String[] args) {
        for (int i = 0; i < args.length; i++) {
            String value = args[i].equals("--model") && i + 1 < args.length ? args[i + 1]
                    : args[i].startsWith("--model=") ? args[i].substring(8) : null;
            if (value != null) return MxmlModel.isMxmlFolder(Path.of(value));
        }
        return false;
    }

    static int train(String[] args, PrintStream out) throws Exception {
        Options o = new Options("fewshot train --method mxml --learners DIR1,DIR2,... --data SRC1,SRC2,... --out DIR [options]")
                .option("--method", "mxml", "the mixture of meta-learners", "mxml")
                .option("--learners", "DIRS", "comma-separated folders of trained protonet or tpn learners ('fewshot train')", null)
                .option("--names", "NAMES", "comma-separated learner names (default: the folders' names)", null)
                .option("--data", "SRCS", "comma-separated training sources the WPN's episodes come from (uniformly): an "
                        + "Omniglot zip/folder, PATH#Alphabet1+Alphabet2, or fashion-mnist[:train|:test][#0+1+...]", null)
                .option("--way", "N", "classes per episode", "5")
                .option("--shot", "K", "support images per class (at least 2: the WPN reads leave-one-out statistics)", "5")
                .option("--query", "Q", "query images per class", "10")
                .option("--pool-episodes", "N", "episodes the frozen learners analyse once", "500")
                .option("--epochs", "N", "WPN passes over the pool", "20")
                .option("--hidden", "N", "WPN hidden width", "32")
                .option("--lr", "X", "Adam learning rate of the WPN", "0.001")
                .option("--device", "cpu|opencl|auto|reference", "where to compute", "cpu")
                .option("--seed", "N", "seeds the episodes and the WPN", "1")
                .option("--out", "DIR", "output folder (mxml.json, wpn.safetensors, log)", null)
                .parse(args);
        if (o.helpRequested()) {
            out.print(o.help("train the weight prediction network of MxML over frozen learners"));
            return Main.OK;
        }
        Devices.select(o.string("--device"), System.err);
        Path outDir = o.path("--out");
        if (MxmlModel.isMxmlFolder(outDir)) {
            throw new IllegalArgumentException(outDir.toAbsolutePath() + " already holds an MxML model; choose another --out");
        }
        List<FrozenLearner> learners = new ArrayList<>();
        String[] folders = o.string("--learners").split(",");
        String[] names = o.stringOrNull("--names") == null ? null : o.string("--names").split(",");
        if (names != null && names.length != folders.length) {
            throw new UsageException("--names gives " + names.length + " names for " + folders.length + " learners");
        }
        int imageSize = -1;
        for (int i = 0; i < folders.length; i++) {
            Path folder = Path.of(folders[i].trim());
            if (!Files.isDirectory(folder)) throw new NoSuchFileException("--learners: no training folder at " + folder.toAbsolutePath());
            int size = FewShotTrainer.readConfig(folder).imageSize();
            if (imageSize >= 0 && size != imageSize) {
                throw new IllegalArgumentException("--learners: " + folder + " uses " + size + "x" + size
                        + " images, the others " + imageSize + "x" + imageSize);
            }
            imageSize = size;
            String name = names != null ? names[i].trim() : folder.getFileName().toString();
            learners.add(new FrozenLearner(name, FewShotTrainer.loadModel(folder), folder));
        }
        List<String> sourceNames = new ArrayList<>();
        List<ImageDataset> sources = new ArrayList<>();
        for (String spec : o.string("--data").split(",")) {
            sourceNames.add(spec.trim());
            sources.add(DataSources.load(spec.trim(), imageSize));
        }
        EpisodeSpec spec = episodeSpec(o);
        EpisodeSources episodes = new EpisodeSources(sourceNames, sources, spec, o.longValue("--seed"));
        MxmlTrainer.Settings settings;
        try {
            settings = new MxmlTrainer.Settings(o.integer("--pool-episodes"), o.integer("--epochs"),
                    o.integer("--hidden"), o.real("--lr"), o.longValue("--seed"));
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
        out.println("fewshot train: mxml over " + learners.size() + " learners " + learners.stream().map(FrozenLearner::name).toList()
                + "; WPN episodes from " + episodes + " -> " + outDir);
        MxmlTrainer.Outcome outcome = MxmlTrainer.train(learners, episodes, settings, outDir, out);
        out.printf("done: analysis %.1f s, WPN training %.1f s; final mixture query accuracy on the pool %.3f; model in %s%n",
                outcome.secondsAnalysing(), outcome.secondsTraining(),
                outcome.epochAccuracy()[outcome.epochAccuracy().length - 1], outDir);
        for (int s = 0; s < sourceNames.size(); s++) {
            out.printf("  mean weights on %s episodes: %s%n", sourceNames.get(s), format(outcome.meanWeightsBySource()[s]));
        }
        return Main.OK;
    }

    static int eval(String[] args, PrintStream out) throws Exception {
        Options o = new Options("fewshot eval --model MXML_DIR --data SRC [options]")
                .option("--model", "DIR", "folder written by 'fewshot train --method mxml'", null)
                .option("--union", "DIR", "also evaluate this learner (e.g. trained on the union of the sources)", null)
                .option("--data", "SRC", "test source: Omniglot zip/folder, PATH#Alphabets, fashion-mnist[:test][#classes]", null)
                .option("--way", "N", "classes per episode (default: as trained)", null)
                .option("--shot", "K", "support images per class (default: as trained)", null)
                .option("--query", "Q", "queries per class", null)
                .option("--episodes", "N", "test episodes", "600")
                .option("--seed", "N", "seed of the test episodes", "1")
                .option("--device", "cpu|opencl|auto|reference", "where to compute", "cpu")
                .option("--out", "DIR", "also write eval.json here", null)
                .parse(args);
        if (o.helpRequested()) {
            out.print(o.help("evaluate an MxML model, its learners and their uniform ensemble on the same episodes"));
            return Main.OK;
        }
        Devices.select(o.string("--device"), System.err);
        Path modelDir = o.path("--model");
        MxmlModel model = MxmlModel.load(modelDir);
        Map<?, ?> description = MxmlModel.readDescription(modelDir);
        int ways = o.has("--way") ? o.integer("--way") : ((Number) description.get("ways")).intValue();
        int shots = o.has("--shot") ? o.integer("--shot") : ((Number) description.get("shots")).intValue();
        int queries = o.has("--query") ? o.integer("--query") : ((Number) description.get("queries")).intValue();
        int imageSize = model.learners().get(0).encoder().imageSize();
        String dataSpec = o.string("--data");
        ImageDataset data = DataSources.load(dataSpec, imageSize);
        var union = o.stringOrNull("--union") == null ? null : FewShotTrainer.loadModel(o.path("--union"));
        int episodes = o.integer("--episodes");
        Progress progress = Progress.builder(episodes).unitName("ep").out(out).build();
        MxmlEvaluation.Result r = MxmlEvaluation.evaluate(model, union, data, EpisodeSpec.fixed(ways, shots, queries),
                episodes, o.longValue("--seed"), done -> progress.update(done, 1));
        progress.finish();
        out.printf("mxml %d-way %d-shot on %s:%n", ways, shots, dataSpec);
        Map<String, Object> summary = new LinkedHashMap<>();
        summary.put("model", modelDir.toString());
        summary.put("method", "mxml");
        summary.put("data", dataSpec);
        summary.put("ways", (long) ways);
        summary.put("shots", (long) shots);
        summary.put("queries", (long) queries);
        summary.put("episodes", (long) episodes);
        Map<String, Object> accuracies = new LinkedHashMap<>();
        for (Map.Entry<String, FewShotEvaluator.Accuracy> e : r.accuracyByMethod().entrySet()) {
            out.printf("  %-22s %s%n", e.getKey(), e.getValue().describe());
            accuracies.put(e.getKey(), Map.of("mean_accuracy", e.getValue().mean(), "ci95", e.getValue().ci95(),
                    "ci95_t", e.getValue().ci95T()));
        }
        out.printf("  mean WPN weights %s: %s%n", model.learnerNames(), format(r.meanWeights()));
        // paired differences over the same episodes: far narrower than comparing two intervals
        Map<String, Object> paired = new LinkedHashMap<>();
        for (String baseline : r.accuracyByMethod().keySet()) {
            if (baseline.equals(MxmlEvaluation.MXML)) continue;
            FewShotEvaluator.Accuracy d = r.pairedDifference(MxmlEvaluation.MXML, baseline);
            out.printf("  MxML - %-15s %+.2f ± %.2f points (paired, 95%% CI)%n", baseline, 100 * d.mean(), 100 * d.ci95());
            paired.put(baseline, Map.of("mean_difference", d.mean(), "ci95", d.ci95(), "ci95_t", d.ci95T()));
        }
        summary.put("accuracy", accuracies);
        summary.put("paired_difference_mxml_minus", paired);
        Map<String, Object> weights = new LinkedHashMap<>();
        for (int l = 0; l < r.meanWeights().length; l++) weights.put(model.learnerNames().get(l), r.meanWeights()[l]);
        summary.put("mean_weights", weights);
        String outDir = o.stringOrNull("--out");
        if (outDir != null) {
            Files.createDirectories(Path.of(outDir));
            AtomicFiles.writeString(Path.of(outDir).resolve("eval.json"), Json.writePretty(summary));
        }
        return Main.OK;
    }

    private static EpisodeSpec episodeSpec(Options o) {
        try {
            return EpisodeSpec.fixed(o.integer("--way"), o.integer("--shot"), o.integer("--query"));
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
    }

    private static String format(double[] weights) {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < weights.length; i++) sb.append(i == 0 ? "" : ", ").append(String.format("%.3f", weights[i]));
        return sb.append("]").toString();
    }

    /** {@code fewshot mxml-experiment}. */
    static final class ExperimentCommand implements Command {
        @Override
        public String name() {
            return "fewshot mxml-experiment";
        }

        @Override
        public String summary() {
            return "MxML end to end: 3 learners on different sources, union learner, two WPNs, in/out-of-distribution tests";
        }

        @Override
        public int run(String[] args, PrintStream out) throws Exception {
            Options o = new Options("fewshot mxml-experiment [--quick] --out DIR [options]")
                    .flag("--quick", "short training (a few minutes on a CPU); results labelled as such")
                    .option("--omniglot", "DIR", "folder with images_background_small1.zip and _small2.zip "
                            + "(default: ../shared/data/omniglot or -Dgrad4j.shared=DIR)", null)
                    .option("--test-episodes", "N", "test episodes per distribution (default: 100 quick, 600 full)", null)
                    .option("--learner", "protonet|tpn", "the base learners' method (and the union learner's)", "protonet")
                    .option("--device", "cpu|opencl|auto|reference", "where to compute", "cpu")
                    .option("--seed", "N", "seeds data splits, weights and episodes", "1")
                    .option("--out", "DIR", "output folder (learners/, union/, mxml/, mxml-validation/, report.md, CSV, PNG)", null)
                    .parse(args);
            if (o.helpRequested()) {
                out.print(o.help(summary()));
                return Main.OK;
            }
            Devices.select(o.string("--device"), System.err);
            long seed = o.longValue("--seed");
            MxmlExperiment.Settings settings = o.has("--quick") ? MxmlExperiment.Settings.quick(seed)
                    : MxmlExperiment.Settings.full(seed);
            MxmlExperiment.Settings s = settings;
            try {
                settings = new MxmlExperiment.Settings(s.label(), o.string("--learner"), s.ways(), s.shots(), s.queries(),
                        s.filters(), s.learnerEpisodes(), s.unionEpisodes(), s.learnerLearningRate(), s.wpn(),
                        o.has("--test-episodes") ? o.integer("--test-episodes") : s.testEpisodes(), s.seed());
            } catch (IllegalArgumentException e) {
                throw new UsageException("--learner: " + e.getMessage());
            }
            Path omniglot = o.stringOrNull("--omniglot") != null ? o.path("--omniglot") : sharedOmniglot();
            Path outDir = o.path("--out");
            long start = System.nanoTime();
            MxmlExperiment.Data data = MxmlExperiment.loadData(omniglot, seed);
            out.printf("data loaded in %.1f s%n", (System.nanoTime() - start) / 1e9);
            MxmlExperiment.run(settings, data, outDir, out);
            out.printf("done in %.0f s: %s%n", (System.nanoTime() - start) / 1e9, outDir.resolve("report.md"));
            return Main.OK;
        }

        private static Path sharedOmniglot() {
            String shared = System.getProperty("grad4j.shared");
            return (shared == null || shared.isBlank() ? Path.of("..", "shared") : Path.of(shared))
                    .resolve("data").resolve("omniglot");
        }
    }
}
