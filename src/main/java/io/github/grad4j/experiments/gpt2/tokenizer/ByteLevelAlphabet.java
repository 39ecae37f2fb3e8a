package io.github.grad4j.experiments.gpt2.tokenizer;

/**
 * GPT-2's reversible mapping between the 256 byte values and 256 printable code points.
 *
 * <p>GPT-2 stores its vocabulary as text, so every byte must be spelled by a visible character:
 * the bytes {@code '!'..'~'}, {@code U+00A1..U+00AC} and {@code U+00AE..U+00FF} stand for
 * themselves; the other 68 bytes (controls, space, DEL, NBSP, soft hyphen, ...) are given the
 * code points {@code U+0100 + n} in ascending byte order, so for example space becomes
 * {@code 'Ġ'} (U+0120) and newline {@code 'Ċ'} (U+010A). Every mapped code point is below
 * U+0144, hence a single {@code char}.
 */
final class ByteLevelAlphabet {

    private static final char[] BYTE_TO_CHAR = new char[256];
    /** Indexed by char; -1 for chars that do not spell a byte. */
    private static final int[] CHAR_TO_BYTE;

    static {
        int nextShifted = 0;
        int maxChar = 0;
        for (int b = 0; b < 256; b++) {
            char mapped = standsForItself(b) ? (char) b : (char) (0x100 + nextShifted++);
            BYTE_TO_CHAR[b] = mapped;
            maxChar = Math.max(maxChar, mapped);
        }
        CHAR_TO_BYTE = new int[maxChar + 1];
        java.util.Arrays.fill(CHAR_TO_BYTE, -1);
        for (int b = 0; b < 256; b++) {
            CHAR_TO_BYTE[BYTE_TO_CHAR[b]] = b;
        }
    }

    private ByteLevelAlphabet() {
    }

    private static boolean standsForItself(int b) {
        return (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
    }

    /** The printable character spelling byte {@code unsignedByte} (0..255). */
    static char charForByte(int unsignedByte) {
        return BYTE_TO_CHAR[unsignedByte];
    }

    /** The byte (0..255) spelled by {@code c}, or -1 if {@code c} is not in the alphabet. */
    static int byteForChar(char c) {
        return c < CHAR_TO_BYTE.length ? CHAR_TO_BYTE[c] : -1;
    }
}
