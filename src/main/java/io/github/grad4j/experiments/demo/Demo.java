package io.github.grad4j.experiments.demo;

import io.github.grad4j.experiments.gpt2.Gpt2Config;
import io.github.grad4j.experiments.gpt2.Gpt2Model;
import io.github.grad4j.experiments.gpt2.Gpt2Trainer;
import io.github.grad4j.experiments.gpt2.TokenDataset;
import io.github.grad4j.experiments.gpt2.tokenizer.Gpt2Tokenizer;
import io.github.grad4j.experiments.quant.Parameterization;
import io.github.grad4j.experiments.quant.gpt2.BitSetting;
import io.github.grad4j.experiments.quant.gpt2.Calibration;
import io.github.grad4j.experiments.quant.gpt2.CompactVocab;
import io.github.grad4j.experiments.quant.gpt2.LmEval;
import io.github.grad4j.experiments.quant.gpt2.QatExperiment;
import io.github.grad4j.experiments.quant.gpt2.QatTraining;
import io.github.grad4j.experiments.quant.gpt2.QuantMode;
import io.github.grad4j.report.MarkdownTable;
import io.github.grad4j.report.ReportWriter;
import io.github.grad4j.tensor.Rng;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.zip.GZIPInputStream;

/**
 * The end-to-end demo: train a tiny GPT-2 on a small public-domain text, quantize it with the
 * three range parameterizations (and OmniQuant's sigmoid form), fine-tune the ranges, and write a
 * comparison table, plots and a Markdown report.
 */
public final class Demo {

    /** What to run; {@link #defaults()} fits a few minutes on two cores. */
    public record Settings(int pretrainSteps, int layers, int heads, int width, int context, int batch, int vocab,
                           double lr, List<BitSetting> bits, int qatSteps, double rangeLr, int evalBatches, long seed) {
        public static Settings defaults() {
            return new Settings(300, 2, 4, 96, 64, 16, 2048, 3e-3, BitSetting.parseList("W8A8,W4A4"),
                    30, 1e-2, 8, 1);
        }

        /** About a minute: for smoke tests and impatient people. */
        public static Settings quick() {
            return new Settings(60, 1, 2, 32, 32, 8, 512, 3e-3, BitSetting.parseList("W8A8,W4A4"), 10, 1e-2, 4, 1);
        }
    }

    private Demo() {
    }

    /** The bundled corpus: Bierce's The Devil's Dictionary (public domain, from Debian's dict-devil). */
    public static String bundledText() throws IOException {
        String name = "/io/github/grad4j/demo/devils-dictionary.txt.gz";
        try (InputStream in = Demo.class.getResourceAsStream(name)) {
            if (in == null) throw new IOException("the bundled demo corpus " + name + " is missing from the jar");
            return new String(new GZIPInputStream(in).readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    /** Runs the demo on {@code text}, writing everything under {@code out}; returns the comparison rows. */
    public static List<QatExperiment.Row> run(String text, String source, Settings s, Path out, PrintStream log)
            throws IOException {
        long start = System.nanoTime();
        Gpt2Tokenizer tokenizer = Gpt2Tokenizer.gpt2();
        TokenDataset all = TokenDataset.fromText(text, source, tokenizer, null);
        TokenDataset[] split = all.split(0.1);
        // a 50257-wide output layer would dominate a tiny model: keep the most frequent training tokens
        CompactVocab vocab = CompactVocab.mostFrequent(List.of(split[0].tokens()), s.vocab() - 1);
        TokenDataset train = new TokenDataset(vocab.map(split[0].tokens()), source + " [train]");
        TokenDataset validation = new TokenDataset(vocab.map(split[1].tokens()), source + " [validation]");
        log.printf(Locale.ROOT, "corpus: %s, %d GPT-2 tokens (%d train, %d validation); vocabulary of the %d most "
                        + "frequent tokens + 1 for the rest (%.1f%% of validation tokens are 'rest')%n",
                source, all.size(), train.size(), validation.size(), vocab.size() - 1,
                100 * vocab.unknownRate(split[1].tokens()));

        Gpt2Config config = new Gpt2Config(s.layers(), s.heads(), s.width(), s.context(), vocab.size());
        Gpt2Model model = new Gpt2Model(config, new Rng(s.seed()));
        log.printf(Locale.ROOT, "model: GPT-2 with %d layers, %d heads, width %d, context %d: %,d parameters%n",
                s.layers(), s.heads(), s.width(), s.context(), model.parameterCount());
        Gpt2Trainer.Config tc = Gpt2Trainer.Config.defaults(s.pretrainSteps(), s.batch(), s.context(), s.lr(),
                        out.resolve("train"))
                .withEval(Math.max(1, s.pretrainSteps() / 8), s.evalBatches()).withSeed(s.seed());
        Gpt2Trainer.Result trained = new Gpt2Trainer(model, train, validation, tc).progressTo(log).train(false);
        log.printf(Locale.ROOT, "trained: validation loss %.3f nats/token (perplexity %.1f)%n",
                trained.lastValidationLoss(), Math.exp(trained.lastValidationLoss()));

        List<Parameterization> params = Arrays.asList(Parameterization.values());
        QatExperiment.Settings qs = new QatExperiment.Settings(s.bits(), params, List.of(s.rangeLr()), QuantMode.RANGES,
                Calibration.MIN_MAX, new QatTraining.Settings(s.qatSteps(), s.batch(), s.context(), s.rangeLr(), 0, 1.0),
                4, new LmEval.Windows(s.evalBatches(), s.batch(), s.context()), s.seed(), false);
        List<QatExperiment.Row> rows = QatExperiment.run(model, train, validation, qs, out.resolve("quant"), log);

        MarkdownTable table = new MarkdownTable("bits", "parameterization", "FP ppl", "PTQ ppl", "ranges trained ppl", "stable");
        for (QatExperiment.Row r : rows) {
            table.row(r.bits().label(), r.p().cliName(), r.fpPpl(), r.ptqPpl(), r.qatPpl(), r.diverged() ? "diverged" : "yes");
        }
        double minutes = (System.nanoTime() - start) / 60e9;
        ReportWriter report = new ReportWriter(out.resolve("report.md"));
        report.heading(1, "grad4j demo: a tiny GPT-2, quantized three ways")
                .paragraph(String.format(Locale.ROOT, "Corpus: %s (%d GPT-2 tokens; %d-token vocabulary of the most frequent "
                                + "ones). Model: %d layers, %d heads, width %d, context %d, %,d parameters, trained for %d steps of "
                                + "%d x %d tokens (AdamW, warmup + cosine). Validation perplexity %.1f.",
                        source, all.size(), vocab.size(), s.layers(), s.heads(), s.width(), s.context(), model.parameterCount(),
                        s.pretrainSteps(), s.batch(), s.context(), Math.exp(trained.lastValidationLoss())))
                .image("training and validation loss", Path.of("train/loss.png"))
                .heading(2, "Quantization")
                .paragraph("Weights per output channel, activations per tensor at the input of every linear layer. PTQ: "
                        + "ranges calibrated from min/max only. Then the ranges alone are trained for " + s.qatSteps()
                        + " steps (Adam, lr " + s.rangeLr() + ") with the model frozen, in each parameterization: "
                        + "scale/offset, min/max, beta/gamma, and beta/gamma through a sigmoid (OmniQuant).")
                .table(table)
                .image("perplexity per setting", Path.of("quant/perplexity.png"));
        for (BitSetting b : s.bits()) report.image("range-training loss, " + b.label(), Path.of("quant/loss_" + b.label() + ".png"));
        report.paragraph(String.format(Locale.ROOT, "Whole run: %.1f minutes. Reproduce: `java -jar target/grad4j.jar demo "
                + "--seed %d`.", minutes, s.seed()));
        report.write();
        log.println();
        log.print(table.toPlainText());
        log.printf(Locale.ROOT, "%nwrote %s (report.md, train/loss.png, quant/perplexity.png, quant/loss_*.png, CSVs) in %.1f min%n",
                out.toAbsolutePath(), minutes);
        return rows;
    }
}
