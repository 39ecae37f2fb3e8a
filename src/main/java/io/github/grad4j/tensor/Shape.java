package io.github.grad4j.tensor;

import java.util.Arrays;

/** Shape arithmetic shared by ops: element counts, broadcasting, axis normalization, formatting. */
public final class Shape {
    private Shape() {
    }

    public static int numel(int[] shape) {
        long n = 1;
        for (int s : shape) {
            if (s < 0) throw new IllegalArgumentException("negative dimension in shape " + str(shape));
            n *= s;
        }
        if (n > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("shape " + str(shape) + " has " + n + " elements, more than "
                    + "a Java array can hold");
        }
        return (int) n;
    }

    /** "[2, 3]" */
    public static String str(int[] shape) {
        return Arrays.toString(shape);
    }

    /** The broadcast shape of a and b, or an error naming the op and both shapes. */
    public static int[] broadcast(String op, int[] a, int[] b) {
        int rank = Math.max(a.length, b.length);
        int[] out = new int[rank];
        for (int i = 0; i < rank; i++) {
            int da = i < rank - a.length ? 1 : a[i - (rank - a.length)];
            int db = i < rank - b.length ? 1 : b[i - (rank - b.length)];
            if (da != db && da != 1 && db != 1) {
                throw new IllegalArgumentException(op + ": shapes " + str(a) + " and " + str(b)
                        + " cannot be broadcast (dimension " + i + ": " + da + " vs " + db + ")");
            }
            out[i] = da == 1 ? db : da;
        }
        return out;
    }

    /** Broadcast shape of several shapes. */
    public static int[] broadcast(String op, int[]... shapes) {
        int[] out = shapes[0];
        for (int i = 1; i < shapes.length; i++) out = broadcast(op, out, shapes[i]);
        return out;
    }

    /** Normalizes a possibly negative axis against a rank, or throws naming the op. */
    public static int axis(String op, int axis, int rank) {
        int a = axis < 0 ? axis + rank : axis;
        if (a < 0 || a >= rank) {
            throw new IllegalArgumentException(op + ": axis " + axis + " is out of range for a tensor of rank "
                    + rank);
        }
        return a;
    }

    /** A flag per axis, true for the given axes (all axes when none are given). */
    public static boolean[] axisMask(String op, int[] axes, int rank) {
        boolean[] mask = new boolean[rank];
        if (axes == null || axes.length == 0) {
            Arrays.fill(mask, true);
            return mask;
        }
        for (int a : axes) {
            int n = axis(op, a, rank);
            if (mask[n]) throw new IllegalArgumentException(op + ": axis " + a + " given twice");
            mask[n] = true;
        }
        return mask;
    }

    public static int[] concat(int[] a, int[] b) {
        int[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
