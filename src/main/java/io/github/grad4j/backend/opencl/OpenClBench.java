package io.github.grad4j.backend.opencl;

import io.github.grad4j.backend.Backend;
import io.github.grad4j.backend.DType;
import io.github.grad4j.backend.Storage;
import io.github.grad4j.backend.Strided;
import io.github.grad4j.backend.UnaryOp;
import io.github.grad4j.backend.cpu.CpuBackend;
import io.github.grad4j.backend.reference.ReferenceBackend;
import io.github.grad4j.experiments.gpt2.Gpt2Config;
import io.github.grad4j.experiments.gpt2.Gpt2Model;
import io.github.grad4j.optim.AdamW;
import io.github.grad4j.optim.Optimizer;
import io.github.grad4j.tensor.Backends;
import io.github.grad4j.tensor.Rng;
import io.github.grad4j.tensor.Tensor;

import java.util.Arrays;
import java.util.Locale;
import java.util.Random;

/**
 * Benchmarks of the OpenCL backend (not a test), each against the cpu backend in the same process.
 * {@code java -cp target/grad4j.jar io.github.grad4j.backend.opencl.OpenClBench [sizes...]}: time
 * per execute, matmul GFLOP/s (and the reference backend up to n = 512), bytes per call.
 * {@code ... OpenClBench gpt2 [steps]}: a GPT-2 training step (the configuration of
 * {@code bench gpt2-step --quick}, which itself runs on the cpu backend only): median step time and
 * the transfers per step.
 */
public final class OpenClBench {
    private OpenClBench() {
    }

    public static void main(String[] args) {
        if (args.length > 0 && args[0].equals("gpt2")) {
            gpt2Step(args.length > 1 ? Integer.parseInt(args[1]) : 5);
            return;
        }
        int[] sizes = args.length == 0 ? new int[]{256, 512} : Arrays.stream(args).mapToInt(Integer::parseInt).toArray();
        OpenClBackend cl = OpenClBackend.create();
        System.out.println("device: " + cl.describeDevice());
        executeLatency(cl);
        CpuBackend cpu = CpuBackend.create();
        for (int n : sizes) {
            for (String kernel : new String[]{"simple", "tiled"}) {
                cl.setMatmulKernel(kernel);
                report("opencl " + kernel, n, matmulSeconds(cl, n, 3, 10));
            }
            report("cpu", n, matmulSeconds(cpu, n, 20, 10)); // more warm-up: the Java kernels need the JIT
            if (n <= 512) report("reference", n, matmulSeconds(ReferenceBackend.INSTANCE, n, 1, n <= 256 ? 3 : 1));
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

    private static void gpt2Step(int steps) {
        OpenClBackend cl = OpenClBackend.create();
        System.out.println("device: " + cl.describeDevice());
        Gpt2Config config = new Gpt2Config(2, 2, 64, 32, 512);
        int b = 4, t = 32, warmup = 2;
        int[] ids = new int[b * t], targets = new int[b * t];
        Rng data = new Rng(7);
        for (int i = 0; i < ids.length; i++) ids[i] = data.nextInt(config.vocabSize());
        for (int i = 0; i < ids.length; i++) targets[i] = i + 1 < ids.length ? ids[i + 1] : 0;
        for (Backend backend : new Backend[]{cl, CpuBackend.create()}) {
            Backend previous = Backends.defaultBackend();
            Backends.setDefault(backend);
            try {
                Gpt2Model model = new Gpt2Model(config, new Rng(42));
                model.train(true);
                Optimizer opt = new AdamW(model.namedParameters(), 6e-4, 0.9, 0.95, 1e-8, 0.1)
                        .setWeightDecayFilter(Optimizer.DECAY_MATRICES_ONLY);
                double[] ms = new double[steps];
                double loss = 0;
                TransferStats start = null;
                for (int i = 0; i < warmup + steps; i++) {
                    if (i == warmup) start = cl.transferStats();
                    long t0 = System.nanoTime();
                    Tensor x = Tensor.ofInts(ids, b, t), y = Tensor.ofInts(targets, b, t);
                    opt.zeroGrad();
                    Tensor l = model.loss(x, y);
                    l.backward();
                    opt.step();
                    loss = l.item();
                    if (i >= warmup) ms[i - warmup] = (System.nanoTime() - t0) / 1e6;
                }
                Arrays.sort(ms);
                System.out.printf(Locale.ROOT, "gpt2 step on %-6s (2 layers, 2 heads, width 64, vocab 512, %d parameters; "
                                + "B=%d T=%d; AdamW): median %.1f ms over %d steps after %d warm-up, last loss %.4f%n",
                        backend.name(), model.parameterCount(), b, t, ms[steps / 2], steps, warmup, loss);
                if (backend == cl) {
                    TransferStats d = cl.transferStats().minus(start);
                    System.out.printf(Locale.ROOT, "  opencl transfers per step: %d B to device (%d B of them per-execute "
                                    + "parameter blocks), %d B to host, %d executes; parameters are %d B; over %d steps: "
                                    + "%d pool growths, %d host fallbacks%n",
                            d.bytesToDevice() / steps, d.paramBytesToDevice() / steps, d.bytesToHost() / steps,
                            d.executes() / steps, 4 * model.parameterCount(), steps, d.poolGrowths(), d.hostFallbacks());
                }
            } finally {
                Backends.setDefault(previous);
            }
        }
        cl.close();
    }
}
