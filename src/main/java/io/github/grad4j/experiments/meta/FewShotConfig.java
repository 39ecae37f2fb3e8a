package io.github.grad4j.experiments.meta;

import io.github.grad4j.backend.DType;
import io.github.grad4j.experiments.meta.data.EpisodeSpec;
import io.github.grad4j.io.Json;
import io.github.grad4j.tensor.Rng;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Everything that defines a few-shot training run: method, episode shape, architecture and
 * optimization. Written next to the checkpoint as JSON so {@code fewshot eval} can rebuild the
 * model, and compared on {@code --resume} so a run is never continued with other settings.
 *
 * @param method              "protonet" or "tpn"
 * @param ways                N of the training episodes
 * @param shots               K of the training episodes
 * @param queries             Q, queries per class
 * @param withinAlphabet      whether training episodes take all classes from one alphabet
 * @param filters             Conv-4 channels (64 in the papers)
 * @param imageSize           side of the square input images (28)
 * @param episodes            training episodes in total
 * @param learningRate        Adam's initial learning rate (1e-3)
 * @param lrHalvingEvery      the learning rate halves every this many episodes (TPN: 10000)
 * @param validationEvery     validate (and checkpoint) every this many episodes
 * @param validationEpisodes  episodes per validation
 * @param k                   TPN: neighbours per row of the graph
 * @param alpha               TPN: propagation strength (fixed, or initial value when learned)
 * @param learnAlpha          TPN: whether alpha is trained
 * @param seed                seeds the weights, the episodes and the validation episodes
 */
public record FewShotConfig(String method, int ways, int shots, int queries, boolean withinAlphabet,
                            int filters, int imageSize, int episodes, double learningRate, int lrHalvingEvery,
                            int validationEvery, int validationEpisodes, int k, double alpha, boolean learnAlpha,
                            long seed) {

    public FewShotConfig {
        if (!method.equals("protonet") && !method.equals("tpn")) {
            throw new IllegalArgumentException("unknown few-shot method '" + method + "' (known: protonet, tpn)");
        }
        requirePositive("ways", ways);
        requirePositive("shots", shots);
        requirePositive("queries", queries);
        requirePositive("filters", filters);
        requirePositive("episodes", episodes);
        requirePositive("lrHalvingEvery", lrHalvingEvery);
        requirePositive("validationEvery", validationEvery);
        requirePositive("k", k);
        if (validationEpisodes < 0) throw new IllegalArgumentException("validationEpisodes must be >= 0, got " + validationEpisodes);
        if (!(learningRate > 0)) throw new IllegalArgumentException("learning rate must be positive, got " + learningRate);
        if (!(alpha > 0 && alpha < 1)) throw new IllegalArgumentException("alpha must be in (0, 1), got " + alpha);
        if (Conv4.spatialSizeBeforeLastPool(imageSize) < 2) {
            throw new IllegalArgumentException("image size " + imageSize + " is too small for Conv-4 (need at least 16)");
        }
    }

    private static void requirePositive(String name, int value) {
        if (value < 1) throw new IllegalArgumentException(name + " must be at least 1, got " + value);
    }

    /** The reference protocol: 5-way 1-shot 15 queries, Conv-4 64 filters, 28x28, Adam 1e-3 halved every 10k. */
    public static FewShotConfig defaults(String method) {
        return new FewShotConfig(method, 5, 1, 15, false, 64, 28, 10000, 1e-3, 10000, 500, 100,
                Tpn.DEFAULT_K, Tpn.DEFAULT_ALPHA, false, 1);
    }

    /** The training episodes' specification. */
    public EpisodeSpec episodeSpec() {
        return EpisodeSpec.fixed(ways, shots, queries).withinGroup(withinAlphabet);
    }

    /** The learning rate for a 0-based episode index: halved every {@code lrHalvingEvery} episodes. */
    public double learningRateAt(long episode) {
        return learningRate * Math.pow(0.5, Math.floorDiv(episode, lrHalvingEvery));
    }

    /** A freshly initialized model (weights drawn from {@code new Rng(seed)}). */
    public FewShotModel buildModel(DType dtype) {
        Rng rng = new Rng(seed);
        Conv4 encoder = new Conv4(1, filters, imageSize, rng, dtype);
        return method.equals("tpn") ? new Tpn(encoder, k, alpha, learnAlpha, rng, dtype) : new PrototypicalNetwork(encoder);
    }

    public FewShotConfig withEpisodes(int newEpisodes) {
        return new FewShotConfig(method, ways, shots, queries, withinAlphabet, filters, imageSize, newEpisodes,
                learningRate, lrHalvingEvery, validationEvery, validationEpisodes, k, alpha, learnAlpha, seed);
    }

    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("method", method);
        m.put("ways", (long) ways);
        m.put("shots", (long) shots);
        m.put("queries", (long) queries);
        m.put("within_alphabet", withinAlphabet);
        m.put("filters", (long) filters);
        m.put("image_size", (long) imageSize);
        m.put("episodes", (long) episodes);
        m.put("learning_rate", learningRate);
        m.put("lr_halving_every", (long) lrHalvingEvery);
        m.put("validation_every", (long) validationEvery);
        m.put("validation_episodes", (long) validationEpisodes);
        m.put("k", (long) k);
        m.put("alpha", alpha);
        m.put("learn_alpha", learnAlpha);
        m.put("seed", seed);
        return m;
    }

    public String toJson() {
        return Json.writePretty(toMap());
    }

    /** Reads what {@link #toMap} wrote; {@code source} names the file in errors. */
    public static FewShotConfig fromMap(Map<?, ?> m, String source) {
        try {
            return new FewShotConfig((String) required(m, "method", source), integer(m, "ways", source),
                    integer(m, "shots", source), integer(m, "queries", source),
                    (Boolean) required(m, "within_alphabet", source), integer(m, "filters", source),
                    integer(m, "image_size", source), integer(m, "episodes", source), real(m, "learning_rate", source),
                    integer(m, "lr_halving_every", source), integer(m, "validation_every", source),
                    integer(m, "validation_episodes", source), integer(m, "k", source), real(m, "alpha", source),
                    (Boolean) required(m, "learn_alpha", source), ((Number) required(m, "seed", source)).longValue());
        } catch (ClassCastException e) {
            throw new IllegalArgumentException(source + ": a field has the wrong type (" + e.getMessage() + ")");
        }
    }

    public static FewShotConfig fromJson(String json, String source) {
        Object parsed = Json.parse(json, source);
        if (!(parsed instanceof Map<?, ?> m)) throw new IllegalArgumentException(source + ": expected a JSON object");
        Object config = m.containsKey("config") ? m.get("config") : m;
        if (!(config instanceof Map<?, ?> cm)) throw new IllegalArgumentException(source + ": 'config' is not an object");
        return fromMap(cm, source);
    }

    private static Object required(Map<?, ?> m, String key, String source) {
        Object v = m.get(key);
        if (v == null) throw new IllegalArgumentException(source + ": missing field '" + key + "'");
        return v;
    }

    private static int integer(Map<?, ?> m, String key, String source) {
        return Math.toIntExact(((Number) required(m, key, source)).longValue());
    }

    private static double real(Map<?, ?> m, String key, String source) {
        return ((Number) required(m, key, source)).doubleValue();
    }

    /** Settings that differ from {@code other}, ignoring the episode count (a run may be extended). */
    public List<String> differencesIgnoringEpisodes(FewShotConfig other) {
        List<String> out = new ArrayList<>();
        Map<String, Object> mine = toMap(), theirs = other.toMap();
        for (Map.Entry<String, Object> e : mine.entrySet()) {
            if (e.getKey().equals("episodes")) continue;
            Object v = theirs.get(e.getKey());
            if (!e.getValue().equals(v)) out.add(e.getKey() + " " + v + " -> " + e.getValue());
        }
        return out;
    }
}
