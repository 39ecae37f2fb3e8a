package io.github.grad4j.cli;

import io.github.grad4j.io.TextFiles;
import io.github.grad4j.experiments.demo.Demo;

import java.io.PrintStream;
import java.nio.file.Path;

/** {@code demo}: the main job, end to end, in a few minutes. */
final class DemoCommand implements Command {
    @Override
    public String name() {
        return "demo";
    }

    @Override
    public String summary() {
        return "train a tiny GPT-2, quantize it three ways, compare (table, plots, report)";
    }

    @Override
    public int run(String[] args, PrintStream out) throws Exception {
        Options o = new Options("demo [--text PATH] [--out DIR] [--quick] [options]")
                .option("--text", "PATH", "a UTF-8 text to train on (default: the bundled Devil's Dictionary)", null)
                .flag("--quick", "a smaller model and fewer steps (about a minute)")
                .option("--steps", "N", "pre-training steps (default 300; 60 with --quick)", null)
                .common("grad4j-demo")
                .parse(args);
        if (o.helpRequested()) {
            out.print(o.help(summary() + "\n\nTrains a small GPT-2 on a public-domain text, quantizes it (W8A8, W4A4) "
                    + "with scale/offset, min/max, beta/gamma and sigmoid beta/gamma ranges, calibrates and then trains the "
                    + "ranges, and writes report.md with PNG plots and CSVs to --out."));
            return Main.OK;
        }
        Demo.Settings s = o.has("--quick") ? Demo.Settings.quick() : Demo.Settings.defaults();
        int steps = o.stringOrNull("--steps") == null ? s.pretrainSteps() : o.integer("--steps");
        if (steps < 2) throw new UsageException("--steps must be at least 2, got " + steps);
        s = new Demo.Settings(steps, s.layers(), s.heads(), s.width(), s.context(), s.batch(), s.vocab(), s.lr(), s.bits(),
                s.qatSteps(), s.rangeLr(), s.evalBatches(), o.longValue("--seed"));
        Devices.apply(o);
        String textPath = o.stringOrNull("--text");
        String text = textPath == null ? Demo.bundledText() : TextFiles.readUtf8(Path.of(textPath));
        if (text.isBlank()) throw new IllegalArgumentException(textPath + ": the text is empty");
        Path dir = o.path("--out");
        if (java.nio.file.Files.exists(dir.resolve("train").resolve("checkpoint.safetensors"))) {
            throw new UsageException(dir + " holds an earlier demo run; choose another --out or delete it");
        }
        Demo.run(text, textPath == null ? "The Devil's Dictionary (bundled)" : textPath, s, dir, out);
        return Main.OK;
    }
}
