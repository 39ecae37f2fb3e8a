package io.github.grad4j.backend;

/**
 * The sizes of one 2-D convolution, as its kernels need them: N images of C channels, O output
 * channels, a kh x kw window, K = C*kh*kw rows of unfolded columns and L = OH*OW output positions.
 */
public record ConvShape(int n, int c, int h, int w, int o, int kh, int kw, int oh, int ow) {

    /** From x (or gradX) [N, C, H, W], weight [O, C, kh, kw] and out (or g) [N, O, OH, OW]. */
    public static ConvShape of(int[] image, int[] weight, int[] out) {
        return new ConvShape(image[0], image[1], image[2], image[3], weight[0], weight[2], weight[3], out[2], out[3]);
    }

    /** A stride-1 convolution of x [N, C, H, W] with weight [O, C, kh, kw] and zero padding (ph, pw). */
    public static ConvShape stride1(int[] image, int[] weight, int ph, int pw) {
        return new ConvShape(image[0], image[1], image[2], image[3], weight[0], weight[2], weight[3],
                image[2] + 2 * ph - weight[2] + 1, image[3] + 2 * pw - weight[3] + 1);
    }

    /** The output's shape [N, O, OH, OW]. */
    public int[] outShape() {
        return new int[]{n, o, oh, ow};
    }

    public int k() {
        return c * kh * kw;
    }

    public int l() {
        return oh * ow;
    }
}
