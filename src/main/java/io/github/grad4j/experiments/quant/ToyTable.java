package io.github.grad4j.experiments.quant;

import io.github.grad4j.autograd.Autograd;
import io.github.grad4j.ops.Functional;
import io.github.grad4j.tensor.Rng;
import io.github.grad4j.tensor.Tensor;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The reference note's toy check, recomputed by this engine: x ~ N(0.3, 1), range initialised to
 * 0.6 x the data's min/max, mean squared error against x. For each bit width, how far one SGD step
 * of unit learning rate moves theta_max, through each parameter that controls it:
 * <ul>
 * <li>s path (scale/offset): theta_max = s (N - R), so |d theta_max| = (N - R) |dL/ds|</li>
 * <li>z path (scale/offset, STE): d theta_max/dz = -s, so |d theta_max| = s |dL/dz|</li>
 * <li>min/max: |dL/d theta_max|</li>
 * <li>gamma (sigmoid-free): theta_max = gamma max(x), so |d theta_max| = max(x) |dL/d gamma|</li>
 * </ul>
 */
public final class ToyTable {
    /** One row: bit width and the four moves. */
    public record Row(int bits, double sPath, double zPath, double minMax, double gamma) {
    }

    /** The note's own numbers, printed alongside ours (its sample size is not stated). */
    static final double[][] NOTE = {{2, 0.50, 8.8e-3, 0.10, 2.6}, {4, 0.32, 1.5e-4, 2.1e-3, 0.054}, {8, 57.9, 3.3e-7, 2.0e-3, 0.050}};

    private ToyTable() {
    }

    /** The table for b = 2, 4, 8 on n samples drawn from {@code seed}. */
    public static List<Row> compute(long seed, int n) {
        Tensor x = AnalysisTask.gaussian(new Rng(seed), n, 0.3);
        Range data = RangeInit.dataExtremes(x, QuantConfig.PER_TENSOR);
        Range start = RangeInit.scaled(RangeInit.minMax(x, QuantConfig.PER_TENSOR), 0.6);
        double dataMax = data.max().item();
        List<Row> rows = new ArrayList<>();
        for (int bits : new int[]{2, 4, 8}) {
            QuantConfig config = QuantConfig.perTensor(bits);
            ScaleOffsetQuantizer so = ScaleOffsetQuantizer.fromRange(config, start);
            Tensor[] gSo = gradients(so, x);
            double s = so.scale().item();
            double bigR = Math.rint(so.namedParameters().get("offset").item());
            double sPath = (config.levels() - bigR) * Math.abs(gSo[0].item());
            double zPath = s * Math.abs(gSo[1].item());
            double minMax = Math.abs(gradients(new MinMaxQuantizer(config, start), x)[1].item());
            BetaGammaQuantizer bg = BetaGammaQuantizer.fromRange(config, start, data, false);
            double gamma = dataMax * Math.abs(gradients(bg, x)[1].item());
            rows.add(new Row(bits, sPath, zPath, minMax, gamma));
        }
        return rows;
    }

    private static Tensor[] gradients(Quantizer q, Tensor x) {
        Tensor loss = Functional.mseLoss(q.forward(x), x);
        return Autograd.grad(loss, q.parameters().toArray(new Tensor[0]), false);
    }

    /** A Markdown table of ours with the note's values in parentheses. */
    public static String format(List<Row> rows, int n) {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "Moves of theta_max per unit learning rate (x ~ N(0.3, 1), n = %d, range 0.6 x min/max, MSE);%n", n));
        sb.append("ours (reference note in parentheses)\n\n");
        sb.append("| b | s path | z path | min/max | gamma (no sigmoid) |\n| --- | --- | --- | --- | --- |\n");
        for (Row r : rows) {
            double[] note = null;
            for (double[] nr : NOTE) if ((int) nr[0] == r.bits()) note = nr;
            sb.append(String.format(Locale.ROOT, "| %d | %.3g (%s) | %.3g (%s) | %.3g (%s) | %.3g (%s) |%n", r.bits(),
                    r.sPath(), g(note[1]), r.zPath(), g(note[2]), r.minMax(), g(note[3]), r.gamma(), g(note[4])));
        }
        return sb.toString();
    }

    private static String g(double v) {
        return String.format(Locale.ROOT, "%.2g", v);
    }
}
