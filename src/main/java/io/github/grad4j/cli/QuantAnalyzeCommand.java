package io.github.grad4j.cli;

import io.github.grad4j.experiments.quant.QuantGradientAnalysis;
import io.github.grad4j.experiments.quant.QuantPlots;

import java.io.PrintStream;
import java.nio.file.Path;

/** {@code quant analyze}: controlled experiments on the gradients of the three range parameterizations. */
final class QuantAnalyzeCommand implements Command {
    @Override
    public String name() {
        return "quant analyze";
    }

    @Override
    public String summary() {
        return "gradient analysis of scale/offset, min/max, beta/gamma over bits x learning rates";
    }

    @Override
    public int run(String[] args, PrintStream out) throws Exception {
        Options o = new Options("quant analyze [--quick] [--out DIR] [--seed N] [--threads N] [--seeds N --steps N --lr-per-decade N]")
                .flag("--quick", "a small grid that runs in about a minute on 2 cores")
                .option("--seed", "N", "random seed", "0")
                .option("--out", "DIR", "output folder (CSV, plots, summary)", "quant-analysis")
                .option("--threads", "N", "parallel runs", String.valueOf(Runtime.getRuntime().availableProcessors()))
                .option("--seeds", "N", "seeds per grid cell (default: 2 quick, 3 full)", null)
                .option("--steps", "N", "optimizer steps per run (default: 30 quick, 100 full)", null)
                .option("--lr-per-decade", "N", "learning rates per decade over 1e-5..1e0 (default: 1 quick, 2 full)", null)
                .parse(args);
        if (o.helpRequested()) {
            out.print(o.help(summary() + "\n\nInputs with known distributions (Gaussian, Laplacian, outliers, per-channel "
                    + "scales) and a quantized linear layer; grid: parameterization x bits x learning rate x optimizer x seeds.\n"
                    + "Writes runs.csv, cells.csv, steps.csv, grad_scaling.csv, summary.txt, toy_table.md and plots/*.png."));
            return Main.OK;
        }
        int threads = o.integer("--threads");
        if (threads < 1) throw new UsageException("--threads must be at least 1, got " + threads);
        Path dir = o.path("--out");
        QuantGradientAnalysis.Grid grid = o.has("--quick") ? QuantGradientAnalysis.quickGrid() : QuantGradientAnalysis.fullGrid();
        try {
            if (o.has("--seeds")) grid = grid.withSeeds(o.integer("--seeds"));
            if (o.has("--steps")) grid = grid.withSteps(o.integer("--steps"));
            if (o.has("--lr-per-decade")) grid = grid.withLrPerDecade(o.integer("--lr-per-decade"));
        } catch (IllegalArgumentException e) {
            throw new UsageException("quant analyze: " + e.getMessage());
        }
        QuantGradientAnalysis.analyze(grid, dir, o.longValue("--seed"), threads, QuantPlots.reportRenderer());
        out.println("wrote " + dir.toAbsolutePath());
        return Main.OK;
    }
}
