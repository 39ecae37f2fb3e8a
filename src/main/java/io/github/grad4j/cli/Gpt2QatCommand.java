package io.github.grad4j.cli;

import io.github.grad4j.experiments.gpt2.TokenDataset;
import io.github.grad4j.experiments.quant.Parameterization;
import io.github.grad4j.experiments.quant.gpt2.BitSetting;
import io.github.grad4j.experiments.quant.gpt2.Calibration;
import io.github.grad4j.experiments.quant.gpt2.LmEval;
import io.github.grad4j.experiments.quant.gpt2.QatExperiment;
import io.github.grad4j.experiments.quant.gpt2.QatTraining;
import io.github.grad4j.experiments.quant.gpt2.QuantMode;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/** {@code gpt2 qat}: PTQ and QAT of a GPT-2 over bit settings x range parameterizations x learning rates. */
final class Gpt2QatCommand implements Command {
    @Override
    public String name() {
        return "gpt2 qat";
    }

    @Override
    public String summary() {
        return "quantize a GPT-2 (PTQ, range-only or full QAT) over bits x parameterizations x learning rates";
    }

    @Override
    public int run(String[] args, PrintStream out) throws Exception {
        Options o = QuantGpt2Setup.declarePretraining(new Options("gpt2 qat --text FILE [--model DIR] [options]"), "400")
                .option("--text", "FILE", "text to calibrate, train and evaluate on (last 10% held out for evaluation)", null)
                .option("--bits", "LIST", "bit settings W<bits>A<bits>", "W8A8,W4A8,W8A4,W4A4")
                .option("--param", "LIST", "parameterizations: all, or a list of scale-offset, min-max, beta-gamma, beta-gamma-sigmoid", "all")
                .option("--lr", "LIST", "learning rates of the range parameters", "1e-4,1e-3,1e-2")
                .option("--weight-lr", "LR", "learning rate of the GPT-2 weights in full QAT", "1e-4")
                .option("--steps", "N", "QAT steps per run", "100")
                .option("--mode", "MODE", "ptq (calibrate only), ranges (ranges train, model frozen), full (weights and ranges)", "full")
                .option("--calibration", "METHOD", "range calibration: min-max, percentile, mse", "min-max")
                .option("--calibration-batches", "N", "batches the ranges are calibrated on", "4")
                .option("--eval-batches", "N", "evenly spaced held-out batches for perplexity", "16")
                .flag("--lm-head", "also quantize the lm head: its input per tensor, the tied wte per vocabulary row")
                .flag("--quick", "W8A8,W4A4 x all parameterizations x lr 1e-3,1e-2, 30 steps, 150 pre-training steps")
                .common("gpt2-qat").parse(args);
        if (o.helpRequested()) {
            out.print(o.help(summary() + "\n\nWrites results.csv, losses.csv, report.md, perplexity.png and loss_<bits>.png."));
            return Main.OK;
        }
        Devices.select(o.string("--device"), out);
        boolean quick = o.has("--quick");
        List<BitSetting> bits = QuantGpt2Setup.parsed("--bits",
                () -> BitSetting.parseList(quick && !o.has("--bits") ? "W8A8,W4A4" : o.string("--bits")));
        List<Parameterization> params = QuantGpt2Setup.parsed("--param", () -> o.string("--param").trim().equalsIgnoreCase("all")
                ? List.of(Parameterization.values()) : Arrays.stream(o.string("--param").split(",")).map(Parameterization::parse).toList());
        QuantMode mode = QuantGpt2Setup.parsed("--mode", () -> QuantMode.parse(o.string("--mode")));
        Calibration calibration = QuantGpt2Setup.parsed("--calibration", () -> Calibration.parse(o.string("--calibration")));
        List<Double> lrs = QuantGpt2Setup.doubles("--lr", quick && !o.has("--lr") ? "1e-3,1e-2" : o.string("--lr"));
        int steps = quick && !o.has("--steps") ? 30 : o.integer("--steps");
        Path dir = o.path("--out");
        long seed = o.longValue("--seed");
        Path textFile = o.path("--text");
        int[] text = QuantGpt2Setup.tokens(textFile, dir.resolve("token-cache"));
        if (quick && !o.has("--pretrain-steps")) o.parse(new String[]{"--pretrain-steps", "150"});
        TokenDataset[] split = new TokenDataset(text, textFile.toString()).split(0.1);
        QuantGpt2Setup.Base base = QuantGpt2Setup.base(o, List.of(text), split[0].tokens(), dir, seed, out);
        TokenDataset train = new TokenDataset(base.map(split[0].tokens()), "train"), eval = new TokenDataset(base.map(split[1].tokens()), "held-out");
        int batch = o.integer("--batch"), context = Math.min(o.integer("--context"), base.model().config().nPositions());
        QatExperiment.Settings s = new QatExperiment.Settings(bits, params, lrs, mode, calibration,
                new QatTraining.Settings(steps, batch, context, lrs.get(0), o.real("--weight-lr"), 1.0),
                o.integer("--calibration-batches"), new LmEval.Windows(quick && !o.has("--eval-batches") ? 8 : o.integer("--eval-batches"), batch, context), seed,
                o.has("--lm-head"));
        long start = System.nanoTime();
        QatExperiment.run(base.model(), train, eval, s, dir, out);
        out.printf("wrote %s (%.0f s)%n", dir.resolve("report.md").toAbsolutePath(), (System.nanoTime() - start) / 1e9);
        return Main.OK;
    }
}
