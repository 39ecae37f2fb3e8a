package io.github.grad4j.experiments.quant.gpt2;

import io.github.grad4j.experiments.gpt2.Gpt2Model;
import io.github.grad4j.experiments.gpt2.TokenDataset;
import io.github.grad4j.experiments.quant.Parameterization;
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
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Quadapter's overfitting experiment at small scale: a GPT-2 pre-trained on one text, quantized and
 * fine-tuned on a fraction of another (in-domain), evaluated in domain, out of domain and on the
 * pre-training text. Methods: FP, PTQ, QAT (all weights and ranges), Quadapter phase 1 (block-wise),
 * phases 1+2 (plus end to end), and Quadapter followed by QAT.
 */
public final class QuadapterExperiment {
    private QuadapterExperiment() {
    }

    /** The methods compared, in report order. */
    public static final List<String> METHODS = List.of("FP", "PTQ", "QAT", "Quadapter-P1", "Quadapter-P1+2", "Quadapter+QAT");

    /** The texts: fine-tuning data and the three evaluation sets. */
    public record Texts(TokenDataset fineTune, Map<String, TokenDataset> evaluation) {
    }

    /** The grid and budget. */
    public record Settings(List<BitSetting> bits, Parameterization parameterization, List<Double> fractions, int seeds,
                           QatTraining.Settings training, int blockSteps, int calibrationBatches, LmEval.Windows eval) {
    }

    /** One evaluation. */
    public record Result(BitSetting bits, double fraction, long seed, String method, String evalSet, double ppl) {
    }

    /**
     * Per-channel ranges (max - min over the calibration batches) at each site, summarised: the
     * widest channel, the median channel, and the per-tensor range, which is what a per-tensor
     * quantizer must cover.
     */
    public record SiteStats(String site, double widestChannel, double medianChannel, double tensorRange) {
        /** How many grid steps of a b-bit per-tensor grid the median channel spans. */
        public double medianLevels(int bits) {
            return ((1 << bits) - 1) * medianChannel / tensorRange;
        }
    }

    public static List<SiteStats> siteStats(Map<String, double[][]> ranges) {
        List<SiteStats> out = new ArrayList<>();
        for (Map.Entry<String, double[][]> e : ranges.entrySet()) {
            double[] lo = e.getValue()[0], hi = e.getValue()[1];
            double[] width = new double[lo.length];
            double min = Double.POSITIVE_INFINITY, max = Double.NEGATIVE_INFINITY;
            for (int c = 0; c < lo.length; c++) {
                width[c] = hi[c] - lo[c];
                min = Math.min(min, lo[c]);
                max = Math.max(max, hi[c]);
            }
            double[] sorted = width.clone();
            Arrays.sort(sorted);
            out.add(new SiteStats(e.getKey(), sorted[sorted.length - 1], sorted[sorted.length / 2], max - min));
        }
        return out;
    }

    /**
     * The harder activation bit width: the fewest bits (from 8 down to 3) at which the median channel
     * of the worst adapter site still spans at least 2 steps of the per-tensor grid. Below that most
     * channels collapse to one or two levels and nothing can recover; above it outliers still cost
     * most of the grid, which is the regime Quadapter addresses.
     */
    public static int harderActivationBits(List<SiteStats> stats) {
        int bits = 8;
        for (int b = 8; b >= 3; b--) {
            boolean ok = true;
            for (SiteStats s : stats) if (isAdapterSite(s.site()) && s.medianLevels(b) < 2) ok = false;
            if (!ok) break;
            bits = b;
        }
        return bits;
    }

    private static boolean isAdapterSite(String site) {
        return Quadapter.FOLDABLE.keySet().stream().anyMatch(site::endsWith);
    }

    /** Runs everything; writes results.csv, summary.md (report.md) and the range plot into {@code out}. */
    public static List<Result> run(Gpt2Model base, Texts texts, Settings s, Path out, PrintStream log) throws IOException {
        Files.createDirectories(out);
        List<Result> results = new ArrayList<>();
        CsvWriter csv = new CsvWriter("bits", "fraction", "seed", "method", "eval_set", "ppl");
        ReportWriter report = new ReportWriter(out.resolve("report.md"));
        report.heading(1, "Quadapter overfitting experiment").paragraph("parameterization " + s.parameterization()
                + ", QAT/phase-2 steps " + s.training().steps() + " (batch " + s.training().batch() + " x " + s.training().context()
                + ", range/alpha lr " + s.training().lr() + ", weight lr " + s.training().weightLr() + "), phase-1 steps per block "
                + s.blockSteps() + ", seeds " + s.seeds() + "; perplexity on " + s.eval().count() + " evenly spaced batches.");

        Map<String, Double> fp = new LinkedHashMap<>();
        for (Map.Entry<String, TokenDataset> e : texts.evaluation().entrySet()) {
            fp.put(e.getKey(), LmEval.perplexity((x, y) -> QuantizedGpt2.lmLoss(base, x, y), e.getValue(), s.eval()));
        }
        log.println("FP perplexity " + fp);

        for (BitSetting bits : s.bits()) {
            for (double fraction : s.fractions()) {
                TokenDataset ft = texts.fineTune().slice(0, fraction);
                if (ft.size() < s.training().context() + 2) {
                    throw new IllegalArgumentException("fine-tune fraction " + fraction + " leaves " + ft.size()
                            + " tokens, too few for windows of " + (s.training().context() + 1));
                }
                for (long seed = 1; seed <= s.seeds(); seed++) {
                    Map<String, QuantizedGpt2> models = new LinkedHashMap<>();
                    List<Tensor> calib = calibration(ft, s, seed);
                    QuantSpec spec = QuantSpec.of(bits, s.parameterization());
                    QuantizedGpt2 ptq = new QuantizedGpt2(SmallGpt2.copy(base), spec);
                    ptq.calibrate(calib);
                    models.put("PTQ", ptq);
                    QuantizedGpt2 qat = new QuantizedGpt2(SmallGpt2.copy(base), spec);
                    qat.calibrate(calib);
                    QatTraining.train(qat, QuantMode.FULL, false, ft, s.training(), new Rng(seed * 31 + 1));
                    models.put("QAT", qat);
                    QuantizedGpt2 qa = new QuantizedGpt2(SmallGpt2.copy(base), spec);
                    qa.calibrate(calib);
                    Quadapter.attach(qa);
                    QatTraining.calibrateBlocks(qa, ft, s.training().withSteps(s.blockSteps()), new Rng(seed * 31 + 2));
                    models.put("Quadapter-P1", Quadapter.fold(qa));
                    QatTraining.train(qa, QuantMode.RANGES, true, ft, s.training(), new Rng(seed * 31 + 3));
                    QuantizedGpt2 folded = Quadapter.fold(qa);
                    models.put("Quadapter-P1+2", folded);
                    if (fraction == s.fractions().get(s.fractions().size() - 1) && seed == 1) {
                        plotRanges(base, qa, calib, bits, out, report);
                    }
                    QuantizedGpt2 qaQat = Quadapter.fold(qa);
                    QatTraining.train(qaQat, QuantMode.FULL, false, ft, s.training(), new Rng(seed * 31 + 4));
                    models.put("Quadapter+QAT", qaQat);
                    for (Map.Entry<String, TokenDataset> e : texts.evaluation().entrySet()) {
                        Result r = new Result(bits, fraction, seed, "FP", e.getKey(), fp.get(e.getKey()));
                        results.add(r);
                        for (Map.Entry<String, QuantizedGpt2> m : models.entrySet()) {
                            results.add(new Result(bits, fraction, seed, m.getKey(), e.getKey(),
                                    LmEval.perplexity(m.getValue()::loss, e.getValue(), s.eval())));
                        }
                    }
                    log.printf("%s fraction %s seed %d done%n", bits, fraction, seed);
                    for (Result r : results) {
                        if (r.bits().equals(bits) && r.fraction() == fraction && r.seed() == seed) {
                            log.printf("  %-15s %-26s %.2f%n", r.method(), r.evalSet(), r.ppl());
                        }
                    }
                }
            }
        }
        for (Result r : results) csv.row(r.bits().label(), r.fraction(), r.seed(), r.method(), r.evalSet(), r.ppl());
        csv.write(out.resolve("results.csv"));
        report.heading(2, "Perplexity (mean over seeds; +- is the standard deviation)").table(summary(results, s, texts));
        report.write();
        return results;
    }

    private static List<Tensor> calibration(TokenDataset ft, Settings s, long seed) {
        List<Tensor> calib = new ArrayList<>();
        Rng rng = new Rng(seed * 31);
        for (int i = 0; i < s.calibrationBatches(); i++) calib.add(ft.sample(rng, s.training().batch(), s.training().context()).inputs());
        return calib;
    }

    /** Mean (+- std over seeds) per bits x fraction x method, one column per evaluation set. */
    public static MarkdownTable summary(List<Result> results, Settings s, Texts texts) {
        List<String> header = new ArrayList<>(List.of("bits", "fine-tune fraction", "method"));
        header.addAll(texts.evaluation().keySet());
        MarkdownTable t = new MarkdownTable(header.toArray(String[]::new));
        for (BitSetting b : s.bits()) {
            for (double f : s.fractions()) {
                for (String method : METHODS) {
                    List<Object> row = new ArrayList<>(List.of(b.label(), f, method));
                    for (String set : texts.evaluation().keySet()) {
                        double[] v = results.stream().filter(r -> r.bits().equals(b) && r.fraction() == f && r.method().equals(method)
                                && r.evalSet().equals(set)).mapToDouble(Result::ppl).toArray();
                        double mean = Arrays.stream(v).average().orElse(Double.NaN);
                        double sd = Math.sqrt(Arrays.stream(v).map(x -> (x - mean) * (x - mean)).sum() / Math.max(1, v.length - 1));
                        row.add(v.length > 1 && !method.equals("FP") ? String.format("%.2f +- %.2f", mean, sd) : String.format("%.2f", mean));
                    }
                    t.row(row.toArray());
                }
            }
        }
        return t;
    }

    /** Per-channel range (max - min) of the quantizer's input at the most outlier-heavy adapter site, before and after. */
    private static void plotRanges(Gpt2Model base, QuantizedGpt2 adapted, List<Tensor> calib, BitSetting bits, Path out,
                                   ReportWriter report) throws IOException {
        QuantizedGpt2 plain = new QuantizedGpt2(SmallGpt2.copy(base), adapted.spec());
        Map<String, double[][]> before = plain.inputChannelRanges(calib), after = adapted.inputChannelRanges(calib);
        String worst = null;
        double worstRatio = 0;
        for (SiteStats st : siteStats(before)) {
            if (isAdapterSite(st.site()) && st.widestChannel() / st.medianChannel() > worstRatio) {
                worstRatio = st.widestChannel() / st.medianChannel();
                worst = st.site();
            }
        }
        CsvWriter csv = new CsvWriter("site", "channel", "range_before", "range_after", "alpha");
        LinePlot plot = new LinePlot().title("Per-channel input range at " + worst + " (" + bits + ")").xLabel("channel")
                .yLabel("max - min of the quantizer input").logY(true).markers(true);
        for (String site : before.keySet()) {
            if (!isAdapterSite(site)) continue;
            double[] alpha = adapted.site(site).alpha().toDoubleArray();
            double[] b = width(before.get(site)), a = width(after.get(site));
            for (int c = 0; c < b.length; c++) csv.row(site, c, b[c], a[c], alpha[c]);
            if (site.equals(worst)) plot.series("before adapters", b).series("after Quadapter P1+2", a);
        }
        csv.write(out.resolve("channel_ranges_" + bits.label() + ".csv"));
        report.figure("per-channel ranges " + bits.label(), plot, "channel_ranges_" + bits.label() + ".png");
    }

    private static double[] width(double[][] r) {
        double[] w = new double[r[0].length];
        for (int c = 0; c < w.length; c++) w[c] = r[1][c] - r[0][c];
        return w;
    }
}
