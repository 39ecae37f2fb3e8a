package io.github.grad4j.experiments.gpt2.tokenizer;

import com.knuddels.jtokkit.Encodings;
import com.knuddels.jtokkit.api.Encoding;
import com.knuddels.jtokkit.api.EncodingType;
import com.knuddels.jtokkit.api.IntArrayList;

/**
 * jtokkit's independent implementation of tiktoken's {@code r50k_base} (= GPT-2), the oracle the
 * tests compare {@link Gpt2Tokenizer} with. jtokkit ships its own copy of the vocabulary (in
 * tiktoken's format, not encoder.json/vocab.bpe) and its own BPE code.
 */
final class R50kOracle {

    private static final Encoding R50K = Encodings.newDefaultEncodingRegistry().getEncoding(EncodingType.R50K_BASE);

    private R50kOracle() {
    }

    /** tiktoken's encode_ordinary: special-token text is treated as plain text. */
    static int[] encodeOrdinary(String text) {
        return R50K.encodeOrdinary(text).toArray();
    }

    static byte[] decodeBytes(int... ids) {
        IntArrayList list = new IntArrayList(ids.length);
        for (int id : ids) {
            list.add(id);
        }
        return R50K.decodeBytes(list);
    }
}
