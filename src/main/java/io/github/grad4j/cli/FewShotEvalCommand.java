package io.github.grad4j.cli;

import io.github.grad4j.experiments.meta.FewShotConfig;
import io.github.grad4j.experiments.meta.FewShotEvaluator;
import io.github.grad4j.experiments.meta.FewShotModel;
import io.github.grad4j.experiments.meta.FewShotTrainer;
import io.github.grad4j.experiments.meta.data.EpisodeSpec;
import io.github.grad4j.experiments.meta.data.ImageDataset;
import io.github.grad4j.experiments.meta.data.LakeOneShotRuns;
import io.github.grad4j.io.AtomicFiles;
import io.github.grad4j.io.Json;
import io.github.grad4j.report.CsvWriter;
import io.github.grad4j.report.Progress;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** {@code fewshot eval}: test accuracy of a trained few-shot model, or Lake's one-shot error rate. */
final class FewShotEvalCommand implements Command {
    @Override
    public String name() {
        return "fewshot eval";
    }

    @Override
    public String summary() {
        return "evaluate a trained few-shot model (test episodes or Lake's one-shot runs)";
    }

    @Override
    public int run(String[] args, PrintStream out) throws Exception {
        if (FewShotTrainCommand.isMamlFamily(args)) return MetaLearningRunner.eval(args, out);
        if (FewShotMxml.isMxmlModel(args)) return FewShotMxml.eval(args, out);
        Options o = new Options("fewshot eval --model DIR (--data PATH [--way N --shot K] | --lake-runs DIR) [options]")
                .option("--model", "DIR", "folder written by 'fewshot train' (an MxML folder too; maml|metasgd|btaml: --method M --checkpoint FILE)", null)
                .option("--device", "cpu|opencl|auto|reference", "where to compute", "cpu")
                .option("--data", "PATH", "test classes: an Omniglot zip or folder", null)
                .option("--lake-runs", "DIR", "folder with Lake's runNN folders (20-way 1-shot within alphabet)", null)
                .option("--way", "N", "classes per test episode (default: as trained)", null)
                .option("--shot", "K", "support images per class (default: as trained)", null)
                .option("--query", "Q", "queries per class", "15")
                .flag("--within-alphabet", "draw all classes of an episode from one alphabet")
                .option("--exclude-alphabets", "A,B", "leave these alphabets of --data out (e.g. those the training split also has)", null)
                .option("--episodes", "N", "test episodes (TPN protocol: 600)", "600")
                .option("--seed", "N", "seed of the test episodes", "1")
                .option("--out", "DIR", "also write eval.csv (per-episode accuracy) and eval.json here", null)
                .parse(args);
        if (o.helpRequested()) {
            out.print(o.help(summary()));
            return Main.OK;
        }
        Devices.select(o.string("--device"), System.err);
        Path modelDir = o.path("--model");
        String dataPath = o.stringOrNull("--data");
        String lakePath = o.stringOrNull("--lake-runs");
        if ((dataPath == null) == (lakePath == null)) {
            throw new UsageException("give exactly one of --data PATH and --lake-runs DIR");
        }
        if (!Files.isDirectory(modelDir)) {
            throw new NoSuchFileException("--model: no training folder at " + modelDir.toAbsolutePath());
        }
        FewShotConfig config = FewShotTrainer.readConfig(modelDir);
        FewShotModel model = FewShotTrainer.loadModel(modelDir);
        Map<String, Object> summary = new LinkedHashMap<>();
        summary.put("model", modelDir.toString());
        summary.put("method", config.method());
        if (lakePath != null) {
            Path runsPath = Path.of(lakePath);
            if (!Files.isDirectory(runsPath)) {
                throw new NoSuchFileException("--lake-runs: no folder at " + runsPath.toAbsolutePath());
            }
            LakeOneShotRuns runs = LakeOneShotRuns.load(runsPath, config.imageSize());
            LakeOneShotRuns.Evaluation evaluation = FewShotEvaluator.lakeRuns(model, runs);
            out.printf("%s on Lake's one-shot runs (%d runs, %d items): error rate %.2f%% (%d errors)%n", config.method(),
                    runs.runs().size(), evaluation.items(), 100 * evaluation.errorRate(), evaluation.errors());
            for (LakeOneShotRuns.RunResult r : evaluation.perRun()) {
                out.printf("  %s: %d/%d wrong%n", r.run(), r.errors(), r.items());
            }
            summary.put("lake_runs", lakePath);
            summary.put("error_rate", evaluation.errorRate());
            summary.put("items", (long) evaluation.items());
            writeSummary(o, summary, null);
            return Main.OK;
        }
        int ways = o.has("--way") ? o.integer("--way") : config.ways();
        int shots = o.has("--shot") ? o.integer("--shot") : config.shots();
        int episodes = o.integer("--episodes");
        if (ways < 1 || shots < 1 || episodes < 1 || o.integer("--query") < 1) {
            throw new UsageException("--way, --shot, --query and --episodes must be at least 1");
        }
        ImageDataset data = FewShotData.load(Path.of(dataPath), config.imageSize(), "--data");
        List<String> excluded = o.has("--exclude-alphabets")
                ? List.of(o.stringOrNull("--exclude-alphabets").split(",")) : List.of();
        if (!excluded.isEmpty()) {
            try {
                data = data.withoutGroups(excluded);
            } catch (IllegalArgumentException e) {
                throw new UsageException("--exclude-alphabets: " + e.getMessage());
            }
            out.printf("test classes: %s%n", data);
        }
        EpisodeSpec spec = EpisodeSpec.fixed(ways, shots, o.integer("--query")).withinGroup(o.has("--within-alphabet"));
        Progress progress = Progress.builder(episodes).unitName("ep").out(out).build();
        FewShotEvaluator.Accuracy accuracy = FewShotEvaluator.evaluate(model, data, spec, episodes, o.longValue("--seed"),
                done -> progress.update(done, 1));
        progress.finish();
        out.printf("%s %d-way %d-shot on %s: accuracy %s%n", config.method(), ways, shots, dataPath, accuracy.describe());
        summary.put("data", dataPath);
        summary.put("excluded_alphabets", excluded);
        summary.put("ways", (long) ways);
        summary.put("shots", (long) shots);
        summary.put("queries", (long) spec.queries());
        summary.put("within_alphabet", spec.withinGroup());
        summary.put("episodes", (long) episodes);
        summary.put("mean_accuracy", accuracy.mean());
        summary.put("ci95", accuracy.ci95());
        summary.put("ci95_t", accuracy.ci95T());
        writeSummary(o, summary, accuracy);
        return Main.OK;
    }

    private static void writeSummary(Options o, Map<String, Object> summary, FewShotEvaluator.Accuracy accuracy)
            throws java.io.IOException {
        String outDir = o.stringOrNull("--out");
        if (outDir == null) return;
        Path dir = Path.of(outDir);
        Files.createDirectories(dir);
        AtomicFiles.writeString(dir.resolve("eval.json"), Json.writePretty(summary));
        if (accuracy != null) {
            CsvWriter csv = new CsvWriter("episode", "accuracy");
            double[] per = accuracy.perEpisode();
            for (int i = 0; i < per.length; i++) csv.row(i + 1, per[i]);
            csv.write(dir.resolve("eval.csv"));
        }
    }
}
