package io.github.grad4j.experiments.meta.maml;

import io.github.grad4j.autograd.GradMode;
import io.github.grad4j.backend.DType;
import io.github.grad4j.nn.Conv2d;
import io.github.grad4j.nn.Flatten;
import io.github.grad4j.nn.Init;
import io.github.grad4j.nn.Linear;
import io.github.grad4j.nn.MaxPool2d;
import io.github.grad4j.nn.Module;
import io.github.grad4j.nn.ReLU;
import io.github.grad4j.nn.Sequential;
import io.github.grad4j.ops.Views;
import io.github.grad4j.tensor.Rng;
import io.github.grad4j.tensor.Tensor;

import java.util.Map;

/**
 * Bayesian-TAML's inference network: from a task's support set to Gaussian posteriors over the
 * balancing variables omega (one per class), gamma (one per adapted layer) and z (weight and bias
 * modulation per channel of each modulated layer).
 *
 * <p>Layout as in the official code (haebeom-lee/l2b, encoder.py): an instance encoder
 * (conv3x3(10) ReLU pool, twice, dense 64); per class the element-wise mean, biased variance and the
 * normalized class size (n_c - 1) / (maxShot - 1), mixed by a shared dense(3 → 4) and ReLU; a class
 * encoder (dense 128, ReLU, dense 32); the same statistics pooled over classes (with the mean
 * normalized class size) and mixed by dense(3 → 4), ReLU: the task summary. omega's heads read the
 * per-class summaries, gamma's and z's the task summary; each head gives a mean and, through
 * softplus, a standard deviation. All weights start N(0, 0.02²), biases at zero, so every
 * posterior starts near N(0, softplus(0)²).
 */
public final class InferenceNetwork extends Module {
    private static final int INSTANCE_FEATURES = 64, STAT_MIX = 4, CLASS_HIDDEN = 128, CLASS_FEATURES = 32, HEAD_HIDDEN = 64;

    private final int ways;
    private final int layers;
    private final int modulationSize;
    private final int maxShot;
    private final Sequential instanceEncoder;
    private final Linear classStatMix, taskStatMix;
    private final Sequential classEncoder;
    private final Sequential omegaBody, gammaBody, zBody;
    private final Linear omegaMu, omegaS, gammaMu, gammaS, zMu, zS;

    /** A diagonal Gaussian per balancing variable (null where the network has no such output). */
    public record Posterior(Tensor omegaMu, Tensor omegaSigma, Tensor gammaMu, Tensor gammaSigma,
                            Tensor zMu, Tensor zSigma) {
    }

    /**
     * @param inputChannels  channels of the images
     * @param imageSize      height = width of the images (at least 4)
     * @param ways           N: omega has one entry per class
     * @param layers         gamma's size: one per adapted layer of the base network
     * @param modulationSize z's size: 2 x modulated channels (0 for none)
     * @param maxShot        the largest class size, for normalizing class sizes
     */
    public InferenceNetwork(int inputChannels, int imageSize, int ways, int layers, int modulationSize, int maxShot,
                            Rng rng, DType dtype) {
        if (imageSize < 4) throw new IllegalArgumentException("InferenceNetwork: images of " + imageSize + " pixels are too small");
        this.ways = ways;
        this.layers = layers;
        this.modulationSize = modulationSize;
        this.maxShot = maxShot;
        int pooled = imageSize / 2 / 2;
        instanceEncoder = registerModule("instance", new Sequential(
                new Conv2d(inputChannels, 10, 3, 1, 1, true, rng, dtype), new ReLU(), new MaxPool2d(2),
                new Conv2d(10, 10, 3, 1, 1, true, rng, dtype), new ReLU(), new MaxPool2d(2),
                new Flatten(), new Linear(10 * pooled * pooled, INSTANCE_FEATURES, true, rng, dtype)));
        classStatMix = registerModule("class_stats", new Linear(3, STAT_MIX, true, rng, dtype));
        int classSummary = INSTANCE_FEATURES * STAT_MIX;
        classEncoder = registerModule("class_encoder", new Sequential(new Linear(classSummary, CLASS_HIDDEN, true, rng, dtype),
                new ReLU(), new Linear(CLASS_HIDDEN, CLASS_FEATURES, true, rng, dtype)));
        taskStatMix = registerModule("task_stats", new Linear(3, STAT_MIX, true, rng, dtype));
        int taskSummary = CLASS_FEATURES * STAT_MIX;
        omegaBody = registerModule("omega", new Sequential(new Linear(classSummary, HEAD_HIDDEN, true, rng, dtype), new ReLU()));
        omegaMu = registerModule("omega_mu", new Linear(HEAD_HIDDEN, 1, true, rng, dtype));
        omegaS = registerModule("omega_s", new Linear(HEAD_HIDDEN, 1, true, rng, dtype));
        gammaBody = registerModule("gamma", new Sequential(new Linear(taskSummary, HEAD_HIDDEN, true, rng, dtype), new ReLU()));
        gammaMu = registerModule("gamma_mu", new Linear(HEAD_HIDDEN, layers, true, rng, dtype));
        gammaS = registerModule("gamma_s", new Linear(HEAD_HIDDEN, layers, true, rng, dtype));
        int zOut = Math.max(modulationSize, 1);
        zBody = registerModule("z", new Sequential(new Linear(taskSummary, HEAD_HIDDEN, true, rng, dtype), new ReLU()));
        zMu = registerModule("z_mu", new Linear(HEAD_HIDDEN, zOut, true, rng, dtype));
        zS = registerModule("z_s", new Linear(HEAD_HIDDEN, zOut, true, rng, dtype));
        try (GradMode.Scope ignored = GradMode.noGrad()) {
            for (Map.Entry<String, Tensor> e : namedParameters().entrySet()) {
                Tensor p = e.getValue();
                boolean bias = e.getKey().endsWith("bias");
                p.assign(bias ? Init.zeros(dtype, p.shape()) : Init.normal(rng, 0, 0.02, dtype, p.shape()));
            }
        }
    }

    /**
     * The posterior for a support set x [S, C, H, W] with labels 0..ways-1 (every class present).
     * Only the requested variables' heads run.
     */
    public Posterior posterior(Tensor x, int[] labels, boolean wantOmega, boolean wantGamma, boolean wantZ) {
        Tensor h = instanceEncoder.forward(x);                              // [S, 64]
        Tensor[] perClass = new Tensor[ways];
        double sizeSum = 0;
        for (int c = 0; c < ways; c++) {
            int[] rows = rowsOf(labels, c);
            Tensor hc = h.indexSelect(0, Tensor.ofInts(rows, rows.length).to(h.backend()));
            double size = maxShot > 1 ? (rows.length - 1.0) / (maxShot - 1.0) : 0.0;
            sizeSum += size;
            perClass[c] = statisticsPooling(hc, size, classStatMix);         // [64 * 4]
        }
        Tensor s = Views.stack(0, perClass);                                  // [N, 256]
        Tensor omegaMuT = null, omegaSigma = null, gammaMuT = null, gammaSigma = null, zMuT = null, zSigma = null;
        if (wantOmega) {
            Tensor o = omegaBody.forward(s);
            omegaMuT = omegaMu.forward(o).reshape(ways);
            omegaSigma = omegaS.forward(o).reshape(ways).softplus();
        }
        if (wantGamma || wantZ) {
            Tensor v = classEncoder.forward(s);                               // [N, 32]
            Tensor task = statisticsPooling(v, sizeSum / ways, taskStatMix).reshape(1, -1); // [1, 128]
            if (wantGamma) {
                Tensor g = gammaBody.forward(task);
                gammaMuT = gammaMu.forward(g).reshape(layers);
                gammaSigma = gammaS.forward(g).reshape(layers).softplus();
            }
            if (wantZ) {
                if (modulationSize == 0) throw new IllegalStateException("InferenceNetwork: built without z outputs");
                Tensor zz = zBody.forward(task);
                zMuT = zMu.forward(zz).reshape(modulationSize);
                zSigma = zS.forward(zz).reshape(modulationSize).softplus();
            }
        }
        return new Posterior(omegaMuT, omegaSigma, gammaMuT, gammaSigma, zMuT, zSigma);
    }

    /** Mean and biased variance over the rows of x [n, d], with the set size, mixed per feature: [d * 4]. */
    private static Tensor statisticsPooling(Tensor x, double normalizedSize, Linear mix) {
        int d = x.size(1);
        Tensor mean = x.mean(0);
        Tensor var = x.var(false, false, 0);
        Tensor size = mean.constant(normalizedSize).expand(d);
        Tensor stats = Views.stack(1, mean, var, size);                       // [d, 3]
        return mix.forward(stats).relu().reshape(d * STAT_MIX);
    }

    private static int[] rowsOf(int[] labels, int c) {
        int n = 0;
        for (int l : labels) if (l == c) n++;
        if (n == 0) throw new IllegalArgumentException("InferenceNetwork: class " + c + " has no support example");
        int[] rows = new int[n];
        int k = 0;
        for (int i = 0; i < labels.length; i++) if (labels[i] == c) rows[k++] = i;
        return rows;
    }

    /** Sum over elements of KL(N(mu, sigma²) ‖ N(0, 1)) = -log sigma + (sigma² + mu²) / 2 - 1/2. */
    public static Tensor klToStandardNormal(Tensor mu, Tensor sigma) {
        Tensor perElement = sigma.log().neg().add(sigma.square().add(mu.square()).mul(0.5)).sub(0.5);
        return perElement.sum();
    }
}
