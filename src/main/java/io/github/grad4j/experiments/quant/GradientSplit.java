package io.github.grad4j.experiments.quant;

import io.github.grad4j.autograd.Autograd;
import io.github.grad4j.autograd.GradMode;
import io.github.grad4j.tensor.Tensor;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The range parameters' gradients split by where the elements lie: inside the range, clipped
 * below, clipped above. Each part is the gradient of sum(g * m * x_hat) for the region's mask m;
 * since every element of x_hat depends on the parameters only through its own value, the three
 * parts add up to the full gradient of sum(g * x_hat).
 */
public final class GradientSplit {
    private GradientSplit() {
    }

    /** One parameter's gradient by region (detached tensors shaped like the parameter). */
    public record RegionGradients(Tensor below, Tensor inside, Tensor above) {
        /** below + inside + above: the full gradient. */
        public Tensor total() {
            try (GradMode.Scope ignored = GradMode.noGrad()) {
                return below.add(inside).add(above);
            }
        }
    }

    /**
     * For every range parameter of {@code q} (by name, in registration order), the gradient of
     * sum(upstream * q(x)) split by region. x is treated as a constant.
     */
    public static Map<String, RegionGradients> split(Quantizer q, Tensor x, Tensor upstream) {
        Tensor input = x.detach();
        Tensor xHat = q.forward(input);
        return split(q, input, xHat, upstream);
    }

    /**
     * As {@link #split(Quantizer, Tensor, Tensor)}, reusing an output {@code xHat = q.forward(x)}
     * whose graph is still alive (it is retained, so the caller can backpropagate through it too).
     */
    public static Map<String, RegionGradients> split(Quantizer q, Tensor x, Tensor xHat, Tensor upstream) {
        Regions regions = q.regions(x);
        Map<String, Tensor> params = q.namedParameters();
        Tensor[] inputs = params.values().toArray(new Tensor[0]);
        List<Tensor> masks = List.of(regions.below(), regions.inside(), regions.above());
        Tensor[][] parts = new Tensor[3][];
        for (int r = 0; r < 3; r++) {
            Tensor weight;
            try (GradMode.Scope ignored = GradMode.noGrad()) {
                weight = upstream.detach().mul(masks.get(r));
            }
            parts[r] = Autograd.grad(new Tensor[]{xHat}, inputs, new Tensor[]{weight}, false, true, true);
        }
        Map<String, RegionGradients> out = new LinkedHashMap<>();
        int i = 0;
        for (Map.Entry<String, Tensor> e : params.entrySet()) {
            Tensor zero = Tensor.zeros(e.getValue().backend(), e.getValue().dtype(), e.getValue().shape());
            out.put(e.getKey(), new RegionGradients(orZero(parts[0][i], zero), orZero(parts[1][i], zero),
                    orZero(parts[2][i], zero)));
            i++;
        }
        return out;
    }

    private static Tensor orZero(Tensor g, Tensor zero) {
        return g == null ? zero : g;
    }
}
