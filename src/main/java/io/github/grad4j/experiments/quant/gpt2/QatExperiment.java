package io.github.grad4j.experiments.quant.gpt2;

import io.github.grad4j.experiments.gpt2.Gpt2Model;
import io.github.grad4j.experiments.gpt2.TokenDataset;
import io.github.grad4j.experiments.quant.Parameterization;
import io.github.grad4j.report.BarChart;
import io.github.grad4j.report.CsvWriter;
import io.github.grad4j.report.LinePlot;
import io.github.grad4j.report.MarkdownTable;
import io.github.grad4j.report.ReportWriter;
import io.github.grad4j.tensor.Rng;
import io.github.grad4j.tensor.Tensor;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Task "asymmetric quantization" on GPT-2: for each bit setting x parameterization, the perplexity
 * after PTQ (calibration only) and after QAT at each learning rate, with stability, written as
 * results.csv, losses.csv, report.md and plots.
 */
public final class QatExperiment {
    private QatExperiment() {
    }

    /**
     * The grid and budget; {@code lmHead}: also quantize the lm head (its input per tensor, the tied
     * wte per vocabulary row), see {@link QuantSpec#quantizeLmHead()}.
     */
    public record Settings(List<BitSetting> bits, List<Parameterization> parameterizations, List<Double> lrs, QuantMode mode,
                           Calibration calibration, QatTraining.Settings training, int calibrationBatches,
                           LmEval.Windows eval, long seed, boolean lmHead) {
    }

    /** One cell of the grid. */
    public record Row(BitSetting bits, Parameterization p, double lr, double fpPpl, double ptqPpl, double qatPpl,
                      boolean diverged, double[] losses, double seconds) {
    }

    /** Runs the grid on copies of {@code base}; returns the rows and writes the report into {@code out}. */
    public static List<Row> run(Gpt2Model base, TokenDataset train, TokenDataset eval, Settings s, Path out, PrintStream log)
            throws IOException {
        Files.createDirectories(out);
        double fp = LmEval.perplexity((x, y) -> QuantizedGpt2.lmLoss(base, x, y), eval, s.eval());
        log.printf("FP perplexity %.2f%n", fp);
        if (s.lmHead()) log.println("quantizing the lm head too (input per tensor, tied wte per vocabulary row)");
        List<Tensor> calib = new ArrayList<>();
        for (int i = 0; i < s.calibrationBatches(); i++) {
            calib.add(train.window(i, s.calibrationBatches(), s.training().batch(), s.training().context()).inputs());
        }
        List<Row> rows = new ArrayList<>();
        for (BitSetting bits : s.bits()) {
            for (Parameterization p : s.parameterizations()) {
                QuantSpec spec = new QuantSpec(bits, p, s.calibration(), false, s.lmHead());
                QuantizedGpt2 ptq = new QuantizedGpt2(SmallGpt2.copy(base), spec);
                ptq.calibrate(calib);
                double ptqPpl = LmEval.perplexity(ptq::loss, eval, s.eval());
                log.printf("%s %-18s PTQ %.2f%n", bits, p, ptqPpl);
                List<Double> lrs = s.mode() == QuantMode.PTQ ? List.of(0.0) : s.lrs();
                for (double lr : lrs) {
                    if (s.mode() == QuantMode.PTQ) {
                        rows.add(new Row(bits, p, 0, fp, ptqPpl, ptqPpl, false, new double[0], 0));
                        continue;
                    }
                    QuantizedGpt2 q = new QuantizedGpt2(SmallGpt2.copy(base), spec);
                    q.calibrate(calib);
                    QatTraining.Log l = QatTraining.train(q, s.mode(), false, train, s.training().withLr(lr), new Rng(s.seed()));
                    double ppl = l.diverged() ? Double.NaN : LmEval.perplexity(q::loss, eval, s.eval());
                    if (!Double.isFinite(ppl)) l = new QatTraining.Log(l.losses(), true, l.seconds());
                    rows.add(new Row(bits, p, lr, fp, ptqPpl, ppl, l.diverged(), l.losses(), l.seconds()));
                    log.printf("%s %-18s %s lr %.0e: %s (%.0f s)%n", bits, p, s.mode(), lr,
                            l.diverged() ? "DIVERGED" : String.format("%.2f", ppl), l.seconds());
                }
            }
        }
        write(rows, s, out);
        return rows;
    }

    private static void write(List<Row> rows, Settings s, Path out) throws IOException {
        CsvWriter csv = new CsvWriter("bits", "parameterization", "mode", "lm_head", "lr", "fp_ppl", "ptq_ppl", "qat_ppl",
                "diverged", "first_loss", "last_loss", "seconds");
        CsvWriter losses = new CsvWriter("bits", "parameterization", "lr", "step", "loss");
        MarkdownTable table = new MarkdownTable("bits", "parameterization", "lr", "FP ppl", "PTQ ppl", s.mode() + " ppl", "stable");
        for (Row r : rows) {
            double first = r.losses().length > 0 ? r.losses()[0] : Double.NaN;
            double last = r.losses().length > 0 ? r.losses()[r.losses().length - 1] : Double.NaN;
            csv.row(r.bits().label(), r.p().cliName(), s.mode().cliName(), s.lmHead(), r.lr(), r.fpPpl(), r.ptqPpl(), r.qatPpl(),
                    r.diverged(), first, last, r.seconds());
            for (int i = 0; i < r.losses().length; i++) losses.row(r.bits().label(), r.p().cliName(), r.lr(), i, r.losses()[i]);
            table.row(r.bits().label(), r.p().cliName(), r.lr(), r.fpPpl(), r.ptqPpl(), r.qatPpl(), r.diverged() ? "diverged" : "yes");
        }
        csv.write(out.resolve("results.csv"));
        losses.write(out.resolve("losses.csv"));
        ReportWriter report = new ReportWriter(out.resolve("report.md"));
        report.heading(1, "GPT-2 QAT: parameterizations x bit settings").paragraph("mode " + s.mode() + ", calibration "
                + s.calibration() + ", " + s.training().steps() + " steps of batch " + s.training().batch() + " x "
                + s.training().context() + ", weight lr " + s.training().weightLr() + ", seed " + s.seed()
                + "; perplexity on " + s.eval().count() + " evenly spaced batches of the held-out text. Quantized: the four "
                + "linear layers of every block" + (s.lmHead() ? " and the lm head (its input per tensor, the tied wte per "
                + "vocabulary row)" : "; the lm head is in full precision") + ".").table(table);
        // bar chart: best learning rate per (bits, parameterization), next to PTQ
        List<String> cats = new ArrayList<>();
        List<Double> ptq = new ArrayList<>(), best = new ArrayList<>();
        for (BitSetting b : s.bits()) {
            for (Parameterization p : s.parameterizations()) {
                cats.add(b.label() + " " + p.cliName());
                double bestPpl = Double.NaN, ptqPpl = Double.NaN;
                for (Row r : rows) {
                    if (!r.bits().equals(b) || r.p() != p) continue;
                    ptqPpl = r.ptqPpl();
                    if (Double.isFinite(r.qatPpl()) && !(r.qatPpl() >= bestPpl)) bestPpl = r.qatPpl();
                }
                ptq.add(ptqPpl);
                best.add(bestPpl);
            }
        }
        BarChart bars = new BarChart().categories(cats.toArray(String[]::new))
                .series("PTQ", ptq.stream().mapToDouble(Double::doubleValue).toArray())
                .series(s.mode() + " (best lr)", best.stream().mapToDouble(Double::doubleValue).toArray())
                .title("Perplexity per setting (FP " + String.format("%.1f", rows.isEmpty() ? Double.NaN : rows.get(0).fpPpl()) + ")")
                .yLabel("perplexity").size(Math.max(900, 90 * cats.size()), 600);
        // zoom on the differences: bars from zero would hide a few percent of perplexity
        double lo = Double.POSITIVE_INFINITY, hi = Double.NEGATIVE_INFINITY;
        for (List<Double> l : List.of(ptq, best)) {
            for (double v : l) {
                if (Double.isFinite(v)) {
                    lo = Math.min(lo, v);
                    hi = Math.max(hi, v);
                }
            }
        }
        if (lo < hi) bars.yRange(Math.max(0, lo - 0.25 * (hi - lo)), hi + 0.1 * (hi - lo));
        report.figure("perplexity per setting", bars, "perplexity.png");
        if (s.mode() != QuantMode.PTQ) {
            for (BitSetting b : s.bits()) {
                LinePlot plot = new LinePlot().title("QAT loss, " + b.label()).xLabel("step").yLabel("training loss")
                        .markDivergence(true);
                for (Row r : rows) {
                    if (r.bits().equals(b) && r.losses().length > 0) plot.series(r.p().cliName() + " lr " + r.lr(), r.losses());
                }
                report.figure("loss curves " + b.label(), plot, "loss_" + b.label() + ".png");
            }
        }
        report.write();
    }
}
