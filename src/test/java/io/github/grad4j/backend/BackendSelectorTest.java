package io.github.grad4j.backend;

import io.github.grad4j.backend.reference.ReferenceBackend;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.*;

class BackendSelectorTest {

    @Test
    void cpuIsTheFastCpuBackendAndReferenceIsTheReference() {
        assertSame(io.github.grad4j.backend.cpu.CpuBackend.create(), BackendSelector.select("cpu", System.out));
        assertSame(ReferenceBackend.INSTANCE, BackendSelector.select("reference", System.out));
    }

    @Test
    void unknownNamesAreRejected() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> BackendSelector.select("cuda", System.out));
        assertTrue(e.getMessage().contains("cpu, opencl, auto or reference"), e.getMessage());
    }

    @Test
    void autoSaysWhatItChose() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        Backend b = BackendSelector.select("auto", new PrintStream(bytes, true, StandardCharsets.UTF_8));
        String log = bytes.toString(StandardCharsets.UTF_8);
        assertTrue(log.startsWith("backend: " + b.name()), log);
        if (b.name().equals("reference")) assertTrue(log.contains("OpenCL not used"), log);
        if (b instanceof AutoCloseable c) {
            try {
                c.close();
            } catch (Exception e) {
                fail(e);
            }
        }
    }
}
