package io.github.grad4j.backend.opencl;

import io.github.grad4j.backend.Backend;
import io.github.grad4j.backend.DType;
import io.github.grad4j.backend.Storage;
import io.github.grad4j.backend.Strided;
import io.github.grad4j.backend.UnaryOp;
import io.github.grad4j.backend.reference.ReferenceBackend;

import java.util.Arrays;
import java.util.Locale;
import java.util.Random;

/**
 * Benchmarks of the OpenCL backend (not a test): time per execute, matmul GFLOP/s against the
 * reference backend in the same process, and bytes per call. Run:
 * {@code java -cp target/grad4j.jar io.github.grad4j.backend.opencl.OpenClBench [sizes...]}.
 */
public final class OpenClBench {
    private OpenClBench() {
    }

    public static void main(String[] args) {
        int[] sizes = args.length == 0 ? new int[]{256, 512} : Arrays.stream(args).mapToInt(Integer::parseInt).toArray();
        OpenClBackend cl = OpenClBackend.create();
        System.out.println("device: " + cl.describeDevice());
        executeLatency(cl);
        for (int n : sizes) {
            for (String kernel : new String[]{"simple", "tiled"}) {
                cl.setMatmulKernel(kernel);
                report("opencl " + kernel, n, matmulSeconds(cl, n, 3, 10));
            }
            report("reference", n, matmulSeconds(ReferenceBackend.INSTANCE, n, 1, n <= 256 ? 3 : 1));
        }
        cl.setMatmulKernel("auto");
        cl.close();
    }

    private static void executeLatency(OpenClBackend cl) {
        Storage s = cl.upload(new float[1024]);
        Strided v = Strided.contiguous(s, new int[]{1024});
        for (int i = 0; i < 200; i++) cl.unary(UnaryOp.NEG, v, v, 0, 0);
        int reps = 2000;
        TransferStats before = cl.transferStats();
        long t0 = System.nanoTime();
        for (int i = 0; i < reps; i++) cl.unary(UnaryOp.NEG, v, v, 0, 0);
        double ms = (System.nanoTime() - t0) / 1e6 / reps;
        TransferStats d = cl.transferStats().minus(before);
        System.out.printf(Locale.ROOT, "execute (unary NEG over 1024 floats): %.3f ms per execute, %d B to device per execute (parameter block)%n",
                ms, d.bytesToDevice() / reps);
        long t1 = System.nanoTime();
        for (int i = 0; i < 500; i++) cl.downloadFloats(Strided.contiguous(s, new int[]{1}));
        System.out.printf(Locale.ROOT, "download of one float: %.3f ms%n", (System.nanoTime() - t1) / 1e6 / 500);
    }

    private static double matmulSeconds(Backend b, int n, int warmup, int reps) {
        Random r = new Random(1);
        float[] a = new float[n * n], c = new float[n * n];
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) r.nextGaussian();
            c[i] = (float) r.nextGaussian();
        }
        Strided x = Strided.contiguous(b.upload(a), new int[]{n, n});
        Strided y = Strided.contiguous(b.upload(c), new int[]{n, n});
        Strided out = Strided.contiguous(b.allocate(DType.FLOAT32, n * n), new int[]{n, n});
        for (int i = 0; i < warmup; i++) b.matmul(x, y, out);
        b.downloadFloats(Strided.contiguous(out.storage(), new int[]{1}));
        long t0 = System.nanoTime();
        for (int i = 0; i < reps; i++) b.matmul(x, y, out);
        b.downloadFloats(Strided.contiguous(out.storage(), new int[]{1})); // execution is synchronous; this only confirms
        return (System.nanoTime() - t0) / 1e9 / reps;
    }

    private static void report(String what, int n, double seconds) {
        System.out.printf(Locale.ROOT, "matmul %-16s n=%4d: %8.2f ms  %7.2f GFLOP/s%n", what, n, seconds * 1e3,
                2.0 * n * n * n / seconds / 1e9);
    }
}
