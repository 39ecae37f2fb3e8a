package io.github.grad4j.cli;

import io.github.grad4j.experiments.gpt2.TokenDataset;
import io.github.grad4j.experiments.quant.Parameterization;
import io.github.grad4j.experiments.quant.gpt2.BitSetting;
import io.github.grad4j.experiments.quant.gpt2.LmEval;
import io.github.grad4j.experiments.quant.gpt2.QatTraining;
import io.github.grad4j.experiments.quant.gpt2.QuadapterExperiment;
import io.github.grad4j.experiments.quant.gpt2.QuantSpec;
import io.github.grad4j.experiments.quant.gpt2.QuantizedGpt2;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** {@code gpt2 quadapter}: Quadapter vs QAT when fine-tuning data is small or out of domain. */
final class Gpt2QuadapterCommand implements Command {
    @Override
    public String name() {
        return "gpt2 quadapter";
    }

    @Override
    public String summary() {
        return "Quadapter overfitting experiment: FP, PTQ, QAT, Quadapter phases on small fine-tuning sets";
    }

    @Override
    public int run(String[] args, PrintStream out) throws Exception {
        Options o = QuantGpt2Setup.declarePretraining(new Options("gpt2 quadapter [--data DIR] [--model DIR] [--quick] [options]"), "600")
                .option("--data", "DIR", "folder with tinyshakespeare.txt, grimm_fairy_tales.txt, japanese_fairy_tales.txt",
                        QuantGpt2Setup.defaultTextDir().toString())
                .option("--bits", "LIST", "bit settings; 'auto' for W8A8 plus a harder W8A<b> chosen from the measured activation ranges", "auto")
                .option("--param", "NAME", "range parameterization", "min-max")
                .option("--fractions", "LIST", "fractions of the grimm training part used for fine-tuning", "0.01,0.1,1")
                .option("--seeds", "N", "seeds per setting", "3")
                .option("--steps", "N", "QAT and phase-2 steps", "200")
                .option("--block-steps", "N", "phase-1 steps per block", "100")
                .option("--lr", "LR", "learning rate of ranges and adapter scales", "1e-3")
                .option("--weight-lr", "LR", "learning rate of the GPT-2 weights in QAT", "1e-4")
                .option("--eval-batches", "N", "evenly spaced batches per evaluation set", "16")
                .flag("--quick", "1 seed, 30 steps, 15 phase-1 steps per block, 8 eval batches, 200 pre-training steps")
                .common("gpt2-quadapter").parse(args);
        if (o.helpRequested()) {
            out.print(o.help(summary() + "\n\nPre-trains on tinyshakespeare (first 90%), fine-tunes on fractions of grimm's first 90%, "
                    + "evaluates on grimm's last 10%, japanese_fairy_tales and tinyshakespeare's last 10%.\n"
                    + "Writes results.csv, report.md, channel_ranges_<bits>.csv/png, base-model/."));
            return Main.OK;
        }
        Devices.select(o.string("--device"), out);
        boolean quick = o.has("--quick");
        if (quick) {
            List<String> defaults = new ArrayList<>();
            for (String[] kv : new String[][]{{"--seeds", "1"}, {"--steps", "30"}, {"--block-steps", "15"}, {"--eval-batches", "8"},
                    {"--pretrain-steps", "200"}}) {
                if (!o.has(kv[0])) defaults.addAll(List.of(kv));
            }
            o.parse(defaults.toArray(String[]::new));
        }
        // settings first, so a mistake is reported before minutes of pre-training
        Parameterization param = QuantGpt2Setup.parsed("--param", () -> Parameterization.parse(o.string("--param")));
        boolean autoBits = o.string("--bits").equalsIgnoreCase("auto");
        List<BitSetting> bits = autoBits ? null : QuantGpt2Setup.parsed("--bits", () -> BitSetting.parseList(o.string("--bits")));
        Path data = o.path("--data"), dir = o.path("--out"), cache = dir.resolve("token-cache");
        long seed = o.longValue("--seed");
        Map<String, Path> files = new LinkedHashMap<>();
        for (String n : List.of("tinyshakespeare", "grimm_fairy_tales", "japanese_fairy_tales")) {
            Path f = data.resolve(n + ".txt");
            if (!Files.isRegularFile(f)) throw new java.nio.file.NoSuchFileException(f + ": missing (set --data or -Dgrad4j.shared)");
            files.put(n, f);
        }
        int[] shakespeare = QuantGpt2Setup.tokens(files.get("tinyshakespeare"), cache);
        int[] grimm = QuantGpt2Setup.tokens(files.get("grimm_fairy_tales"), cache);
        int[] japanese = QuantGpt2Setup.tokens(files.get("japanese_fairy_tales"), cache);
        TokenDataset[] sh = new TokenDataset(shakespeare, "tinyshakespeare").split(0.1);
        TokenDataset[] gr = new TokenDataset(grimm, "grimm").split(0.1);
        QuantGpt2Setup.Base base = QuantGpt2Setup.base(o, List.of(shakespeare, grimm, japanese), sh[0].tokens(), dir, seed, out);
        if (base.vocab() != null) {
            out.printf("unknown-token rate of the compact vocabulary: shakespeare %.3f, grimm %.3f, japanese %.3f%n",
                    base.vocab().unknownRate(shakespeare), base.vocab().unknownRate(grimm), base.vocab().unknownRate(japanese));
        }
        Map<String, TokenDataset> eval = new LinkedHashMap<>();
        eval.put("grimm (held out)", new TokenDataset(base.map(gr[1].tokens()), "grimm held out"));
        eval.put("japanese_fairy_tales", new TokenDataset(base.map(japanese), "japanese"));
        eval.put("tinyshakespeare (held out)", new TokenDataset(base.map(sh[1].tokens()), "shakespeare held out"));
        TokenDataset fineTune = new TokenDataset(base.map(gr[0].tokens()), "grimm train");
        int batch = o.integer("--batch"), context = Math.min(o.integer("--context"), base.model().config().nPositions());

        // activation statistics decide the harder setting
        List<io.github.grad4j.tensor.Tensor> calib = new ArrayList<>();
        for (int i = 0; i < 4; i++) calib.add(fineTune.window(i, 4, batch, context).inputs());
        QuantizedGpt2 probe = new QuantizedGpt2(base.model(), QuantSpec.of(new BitSetting(8, 8), Parameterization.MIN_MAX));
        List<QuadapterExperiment.SiteStats> stats = QuadapterExperiment.siteStats(probe.inputChannelRanges(calib));
        probe.detach();
        out.println("per-channel activation ranges (max - min per input channel, on grimm fine-tuning batches):");
        out.printf("  %-18s %12s %12s %12s %8s %14s%n", "site", "widest ch", "median ch", "tensor", "ratio", "median levels@4b");
        for (QuadapterExperiment.SiteStats st : stats) {
            out.printf("  %-18s %12.3f %12.3f %12.3f %8.1f %14.2f%n", st.site(), st.widestChannel(), st.medianChannel(),
                    st.tensorRange(), st.widestChannel() / st.medianChannel(), st.medianLevels(4));
        }
        if (autoBits) {
            int hard = QuadapterExperiment.harderActivationBits(stats);
            out.println("harder setting from the measured ranges: W8A" + hard
                    + " (fewest activation bits at which the median channel of every adapter site still spans >= 2 grid steps)");
            bits = hard == 8 ? List.of(new BitSetting(8, 8)) : List.of(new BitSetting(8, 8), new BitSetting(8, hard));
        }
        QuadapterExperiment.Settings s = new QuadapterExperiment.Settings(bits, param,
                QuantGpt2Setup.doubles("--fractions", o.string("--fractions")), o.integer("--seeds"),
                new QatTraining.Settings(o.integer("--steps"), batch, context, o.real("--lr"), o.real("--weight-lr"), 1.0),
                o.integer("--block-steps"), 4, new LmEval.Windows(o.integer("--eval-batches"), batch, context));
        long start = System.nanoTime();
        QuadapterExperiment.run(base.model(), new QuadapterExperiment.Texts(fineTune, eval), s, dir, out);
        out.printf("wrote %s (%.0f s)%n", dir.resolve("report.md").toAbsolutePath(), (System.nanoTime() - start) / 1e9);
        return Main.OK;
    }
}
