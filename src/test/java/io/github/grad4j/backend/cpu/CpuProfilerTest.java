package io.github.grad4j.backend.cpu;

import io.github.grad4j.backend.Profiler;
import io.github.grad4j.backend.Strided;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The profiler's entries for per-layer kernels name the layer (a model's profile then reads layer
 * by layer): convolutions by channels in, out and output size, batch norms by the activation
 * without its batch.
 */
class CpuProfilerTest {

    @Test
    void convolutionAndBatchNormEntriesNameTheirLayer() {
        CpuBackend cpu = CpuBackend.create(1, true);
        SplittableRandom rng = new SplittableRandom(3);
        Strided x = CpuFastPathsTest.on(cpu, CpuFastPathsTest.random(rng, 2 * 3 * 6 * 6, 1), 2, 3, 6, 6);
        Strided w = CpuFastPathsTest.on(cpu, CpuFastPathsTest.random(rng, 4 * 3 * 9, 1), 4, 3, 3, 3);
        Strided y = CpuFastPathsTest.zeros(cpu, 2, 4, 6, 6);
        Strided pooled = CpuFastPathsTest.zeros(cpu, 2, 4, 3, 3);
        Strided idx = CpuFastPathsTest.ints(cpu, new int[2 * 4 * 9], 2, 4, 3, 3);
        Strided mean = CpuFastPathsTest.zeros(cpu, 4), var = CpuFastPathsTest.zeros(cpu, 4), rstd = CpuFastPathsTest.zeros(cpu, 4);
        Profiler.enable();
        try {
            cpu.conv2d(x, w, null, 1, 1, 1, 1, y);
            cpu.conv2d(x, w, null, 1, 1, 1, 1, y);
            cpu.batchNormReluPool2x2(y, null, null, 1e-5, pooled, idx, mean, var, rstd);
        } finally {
            Profiler.disable();
        }
        List<Profiler.Entry> entries = Profiler.totals();
        Profiler.Entry conv = entries.stream().filter(e -> e.name().startsWith("conv2d")).findFirst().orElseThrow();
        assertEquals("conv2d 3>4 6x6", conv.name());
        assertEquals(2, conv.calls());
        assertTrue(entries.stream().anyMatch(e -> e.name().equals("batchNormReluPool2x2 4x6x6")), entries.toString());
        Profiler.enable();
        try {
            cpu.convBatchNormReluPool2x2(x, w, null, 1, 1, null, null, 1e-5, pooled, idx, mean, var, rstd);
        } finally {
            Profiler.disable();
        }
        assertTrue(Profiler.totals().stream().anyMatch(e -> e.name().equals("convBatchNormReluPool2x2 3>4 6x6")),
                Profiler.totals().toString());
    }
}
