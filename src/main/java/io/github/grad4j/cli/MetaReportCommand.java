package io.github.grad4j.cli;

import io.github.grad4j.experiments.meta.maml.BalancingLog;
import io.github.grad4j.experiments.meta.maml.MetaComparison;
import io.github.grad4j.experiments.meta.maml.MetaEvaluation;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** {@code fewshot meta-report}: MAML / Meta-SGD / Bayesian-TAML runs side by side on the same test tasks. */
final class MetaReportCommand implements Command {
    @Override
    public String name() {
        return "fewshot meta-report";
    }

    @Override
    public String summary() {
        return "compare meta-learning runs on their (shared) test tasks: accuracy, paired differences, plot";
    }

    @Override
    public int run(String[] args, PrintStream out) throws Exception {
        Options o = new Options("fewshot meta-report --runs NAME=DIR,NAME=DIR,... --out DIR")
                .option("--runs", "LIST", "runs to compare, the first is the baseline of the paired differences", null)
                .option("--title", "TEXT", "report title", "Meta-test accuracy")
                .option("--out", "DIR", "where comparison.md, comparison.csv and accuracy.png go", null)
                .parse(args);
        if (o.helpRequested()) {
            out.print(o.help(summary()));
            return Main.OK;
        }
        MetaComparison comparison = new MetaComparison();
        Path outDir = o.path("--out");
        java.nio.file.Files.createDirectories(outDir);
        for (String entry : o.string("--runs").split(",")) {
            int eq = entry.indexOf('=');
            if (eq <= 0 || eq == entry.length() - 1) throw new UsageException("--runs: expected NAME=DIR, got '" + entry + "'");
            String name = entry.substring(0, eq).trim();
            Path run = Path.of(entry.substring(eq + 1).trim());
            comparison.add(name, run);
            // each Bayesian-TAML run's balancing plots again, next to the comparison
            BalancingLog balancing = BalancingLog.read(run);
            if (!balancing.isEmpty()) {
                balancing.writePlots(outDir, name + "-");
                for (String dataset : balancing.datasets()) {
                    out.println(name + " " + dataset + ": Spearman rho of exp(gamma) with support size per layer "
                            + MetaLearningRunner.formatRho(balancing.gammaSizeCorrelation(dataset)) + "; of softmax(omega) with class shots per mode "
                            + MetaLearningRunner.formatRho(balancing.omegaShotCorrelation(dataset)));
                }
            }
        }
        comparison.write(outDir, o.string("--title"));
        List<String> names = comparison.names();
        for (Map.Entry<String, List<MetaEvaluation.Summary>> e : comparison.summaries().entrySet()) {
            StringBuilder line = new StringBuilder(String.format("%-40s", e.getKey()));
            for (int r = 0; r < names.size(); r++) {
                MetaEvaluation.Summary s = e.getValue().get(r);
                line.append(String.format("  %s %.2f%% ± %.2f", names.get(r), 100 * s.meanAccuracy(), 100 * s.ci95()));
            }
            out.println(line);
        }
        out.println("report: " + outDir.resolve("comparison.md"));
        return Main.OK;
    }
}
