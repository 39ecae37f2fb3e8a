package io.github.grad4j.report;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Random;

/**
 * Representative figures shared by the tests and by {@link #main}, which renders them all for a
 * visual check: {@code java -cp target/classes:target/test-classes io.github.grad4j.report.PlotGallery /tmp/report-demo}.
 */
final class PlotGallery {

    private PlotGallery() {}

    /** Three loss curves on a log y axis: one with a min-max band, one that diverges to NaN. */
    static LinePlot lossCurves() {
        int n = 200;
        double[] steps = new double[n];
        double[] adam = new double[n];
        double[] adamLow = new double[n];
        double[] adamHigh = new double[n];
        double[] sgd = new double[n];
        double[] lion = new double[n];
        Random random = new Random(7);
        for (int i = 0; i < n; i++) {
            steps[i] = (i + 1) * 10;
            adam[i] = 3.5 * Math.exp(-i / 40.0) + 0.08 + 0.02 * random.nextGaussian() * Math.exp(-i / 80.0);
            adamLow[i] = adam[i] * 0.8;
            adamHigh[i] = adam[i] * 1.25;
            sgd[i] = 3.6 * Math.exp(-i / 120.0) + 0.2;
            lion[i] = i < 120 ? 3.4 * Math.exp(-i / 30.0) + 0.1 + Math.pow(Math.max(0, i - 90) / 10.0, 3) : Double.NaN;
        }
        return new LinePlot().title("Training loss (3 seeds)").xLabel("step").yLabel("loss").logY(true)
                .series("Adam lr=1e-3", steps, adam).band("Adam lr=1e-3", adamLow, adamHigh)
                .series("SGD lr=0.1", steps, sgd)
                .series("Lion lr=3e-3", steps, lion);
    }

    /** Log-log learning-rate sweep with markers. */
    static LinePlot learningRateSweep() {
        double[] lrs = {1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1};
        double[] fp32 = {2.1, 1.4, 0.9, 0.55, 0.42, 0.47, 0.9, Double.NaN, Double.NaN};
        double[] int8 = {2.3, 1.6, 1.0, 0.62, 0.5, 0.6, 1.4, 4.0, Double.NaN};
        double[] int4 = {2.6, 1.9, 1.3, 0.9, 0.75, 1.1, Double.POSITIVE_INFINITY, Double.NaN, Double.NaN};
        return new LinePlot().title("Final loss vs learning rate").xLabel("learning rate").yLabel("final loss")
                .logX(true).logY(true).markers(true)
                .series("fp32", lrs, fp32).series("int8", lrs, int8).series("int4", lrs, int4);
    }

    /** Grid search: bits x learning rate, log colour scale, with diverged cells. */
    static HeatMap bitsByLearningRate() {
        double[][] loss = {
            {0.41, 0.38, 0.35, 0.52, Double.NaN},
            {0.44, 0.40, 0.37, 0.61, Double.NaN},
            {0.58, 0.49, 0.45, 1.90, Double.NaN},
            {1.30, 0.95, 0.88, Double.NaN, Double.NaN},
        };
        return new HeatMap().title("Final validation loss").xLabel("learning rate").yLabel("weight bits")
                .values(loss).rowLabels("fp32", "8", "4", "2").columnLabels("1e-4", "3e-4", "1e-3", "3e-3", "1e-2")
                .annotate(true).logColor(true).colorBarLabel("loss (log scale)");
    }

    /** Accuracy per dataset and method, with 95% CI error bars and long category names. */
    static BarChart accuracyByDataset() {
        return new BarChart().title("5-way 1-shot accuracy").yLabel("accuracy (mean \u00B1 95% CI)").yRange(0, 1)
                .categories("Omniglot", "mini-ImageNet", "tiered-ImageNet", "CIFAR-FS", "FC100 (Fewshot-CIFAR100)")
                .series("MAML", new double[] {0.951, 0.487, 0.515, 0.581, 0.382}, new double[] {0.004, 0.018, 0.018, 0.019, 0.017})
                .series("ProtoNet", new double[] {0.968, 0.494, 0.533, 0.553, 0.375}, new double[] {0.003, 0.008, 0.009, 0.012, 0.011})
                .series("Reptile", new double[] {0.939, 0.499, 0.482, Double.NaN, 0.360}, new double[] {0.005, 0.003, 0.01, 0.0, 0.013});
    }

    /** Accuracy against model size, with per-point labels. */
    static ScatterPlot accuracyVersusSize() {
        return new ScatterPlot().title("Accuracy vs model size").xLabel("model size (MB)").yLabel("accuracy")
                .logX(true)
                .series("QAT", new double[] {0.6, 1.2, 2.4, 9.6}, new double[] {0.81, 0.88, 0.905, 0.91})
                .pointLabels("QAT", "2-bit", "4-bit", "8-bit", "fp32")
                .series("PTQ", new double[] {0.6, 1.2, 2.4, 9.6}, new double[] {0.42, 0.79, 0.90, 0.91})
                .pointLabels("PTQ", "2-bit", "4-bit", "8-bit", "fp32");
    }

    /** Writes every figure to {@code args[0]} (default /tmp/report-demo). */
    public static void main(String[] args) throws IOException {
        Path dir = Path.of(args.length > 0 ? args[0] : "/tmp/report-demo");
        lossCurves().writePng(dir.resolve("loss.png"));
        learningRateSweep().writePng(dir.resolve("lr-sweep.png"));
        bitsByLearningRate().writePng(dir.resolve("heatmap.png"));
        accuracyByDataset().writePng(dir.resolve("bars.png"));
        accuracyVersusSize().writePng(dir.resolve("scatter.png"));
        accuracyByDataset().size(600, 400).writePng(dir.resolve("bars-small.png"));
        lossCurves().size(1800, 1200).writePng(dir.resolve("loss-large.png"));
        System.out.println("wrote figures to " + dir);
    }
}
