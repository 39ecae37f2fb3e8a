package io.github.grad4j.experiments.meta.maml;

import io.github.grad4j.backend.DType;
import io.github.grad4j.nn.BatchNorm2d;
import io.github.grad4j.nn.Conv2d;
import io.github.grad4j.nn.Flatten;
import io.github.grad4j.nn.Layer;
import io.github.grad4j.nn.Linear;
import io.github.grad4j.nn.MaxPool2d;
import io.github.grad4j.nn.ReLU;
import io.github.grad4j.nn.Sequential;
import io.github.grad4j.tensor.Rng;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The network a MAML-family learner adapts, with the roles of its parameters spelled out.
 *
 * <p>As in Bayesian-TAML's code (haebeom-lee/l2b), only the convolution / dense weights and biases
 * are adapted in the inner loop ("fast" parameters, grouped by layer so that gamma can scale each
 * layer's step); batch-norm affine parameters are meta-learned but not adapted. The classifier head
 * may start at zero for every task: its stored parameters are then not meta-parameters at all.
 *
 * @param network        the layers, run through {@link io.github.grad4j.nn.Module#functionalCall}
 * @param adaptedLayers  per layer (gamma index), the dotted names of its adapted parameters
 * @param modulated      per modulated layer (z), the names of its weight and bias and its channels
 * @param headParams     names of the classifier head's parameters (zero at the start of every task
 *                       when the learner's config asks for it)
 * @param inputChannels  channels of the input images
 * @param imageSize      height = width of the input images
 */
public record BaseNetwork(Layer network, List<List<String>> adaptedLayers, List<ModulatedLayer> modulated,
                          Set<String> headParams, int inputChannels, int imageSize) {

    /** A layer whose initial weights z modulates per output channel: w (1 + z_w), b + z_b. */
    public record ModulatedLayer(String weight, String bias, int channels) {
    }

    public BaseNetwork {
        Map<String, ?> names = network.namedParameters();
        for (List<String> layer : adaptedLayers) {
            for (String n : layer) {
                if (!names.containsKey(n)) throw new IllegalArgumentException("BaseNetwork: no parameter '" + n + "'");
            }
        }
        for (String n : headParams) {
            if (!names.containsKey(n)) throw new IllegalArgumentException("BaseNetwork: no head parameter '" + n + "'");
        }
        adaptedLayers = List.copyOf(adaptedLayers);
        modulated = List.copyOf(modulated);
        headParams = Set.copyOf(headParams);
    }

    /** All adapted parameter names, layer by layer. */
    public List<String> adaptedNames() {
        List<String> all = new ArrayList<>();
        adaptedLayers.forEach(all::addAll);
        return all;
    }

    /** Total z size: weight and bias modulations of every modulated channel. */
    public int modulationSize() {
        int n = 0;
        for (ModulatedLayer m : modulated) n += 2 * m.channels();
        return n;
    }

    /**
     * Conv-4 as in MAML and Bayesian-TAML: four blocks of conv3x3(filters, pad 1) → batch norm with
     * batch statistics always (no running statistics, so meta-test behaves as meta-train) → ReLU →
     * max-pool 2, then flatten and a dense head to {@code ways} logits.
     */
    public static BaseNetwork conv4(int inputChannels, int imageSize, int filters, int ways, Rng rng, DType dtype) {
        Sequential net = new Sequential();
        List<List<String>> layers = new ArrayList<>();
        List<ModulatedLayer> modulated = new ArrayList<>();
        int size = imageSize;
        for (int block = 0; block < 4; block++) {
            int convIndex = net.size();
            net.add(new Conv2d(block == 0 ? inputChannels : filters, filters, 3, 1, 1, true, rng, dtype));
            net.add(new BatchNorm2d(filters, 1e-5, 0.1, true, false, dtype));
            net.add(new ReLU());
            net.add(new MaxPool2d(2));
            String w = convIndex + ".weight", b = convIndex + ".bias";
            layers.add(List.of(w, b));
            modulated.add(new ModulatedLayer(w, b, filters));
            size /= 2;
            if (size < 1) {
                throw new IllegalArgumentException("conv4: images of " + imageSize + " pixels are too small for four 2x2 poolings");
            }
        }
        net.add(new Flatten());
        int headIndex = net.size();
        net.add(new Linear(filters * size * size, ways, true, rng, dtype));
        String hw = headIndex + ".weight", hb = headIndex + ".bias";
        layers.add(List.of(hw, hb));
        return new BaseNetwork(net, layers, modulated, Set.of(hw, hb), inputChannels, imageSize);
    }

    /** The number of classes the head predicts. */
    public int ways() {
        Layer last = network;
        if (network instanceof Sequential s) last = s.get(s.size() - 1);
        if (last instanceof Linear l) return l.outFeatures();
        throw new IllegalStateException("BaseNetwork: the last layer is not a Linear head: " + last);
    }
}
