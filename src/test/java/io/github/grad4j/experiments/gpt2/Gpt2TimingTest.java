package io.github.grad4j.experiments.gpt2;

import io.github.grad4j.tensor.Rng;
import io.github.grad4j.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Forward+backward wall time of small GPT-2s on the default (reference) backend, to know the cost,
 * not to assert it. Run with -Dgrad4j.slow=true: 2 warm-up steps, then the median of 5.
 */
class Gpt2TimingTest {
    @Test
    void forwardBackwardTime() {
        assumeTrue(Boolean.getBoolean("grad4j.slow"), "timing runs only with -Dgrad4j.slow=true");
        time("L3 H3 C48 V97, B4 T16", new Gpt2Config(3, 3, 48, 16, 97), 4, 16);
        time("L4 H4 C128 V512, B4 T64", new Gpt2Config(4, 4, 128, 64, 512), 4, 64);
    }

    private static void time(String label, Gpt2Config config, int b, int t) {
        Gpt2Model model = new Gpt2Model(config, new Rng(1));
        Tensor ids = Gpt2ModelTest.randomIds(new Rng(2), config.vocabSize(), b, t);
        Tensor targets = Gpt2ModelTest.randomIds(new Rng(3), config.vocabSize(), b, t);
        double[] ms = new double[7];
        for (int i = 0; i < ms.length; i++) {
            long start = System.nanoTime();
            model.zeroGrad();
            model.loss(ids, targets).backward();
            ms[i] = (System.nanoTime() - start) / 1e6;
        }
        double[] measured = Arrays.copyOfRange(ms, 2, ms.length);
        Arrays.sort(measured);
        System.out.printf("GPT-2 forward+backward %s (%d parameters, %s): median %.1f ms (min %.1f, max %.1f)%n", label,
                model.parameterCount(), model.stateDict().get("wte.weight").backend().name(), measured[2], measured[0], measured[4]);
    }
}
