package io.github.grad4j.cli;

import io.github.grad4j.backend.Backend;
import io.github.grad4j.backend.cpu.CpuBackend;
import io.github.grad4j.backend.reference.ReferenceBackend;
import io.github.grad4j.tensor.Backends;

import java.io.PrintStream;

/** Turns a --device value into a backend and makes it the default for the command. */
public final class Devices {
    private Devices() {
    }

    /**
     * cpu: the fast float32 backend; reference: the plain specification backend; opencl and auto
     * are handled by the OpenCL backend when it is on the class path.
     */
    public static Backend select(String name, PrintStream log) {
        Backend b;
        switch (name) {
            case "cpu": b = CpuBackend.create(); break;
            case "reference": b = ReferenceBackend.INSTANCE; break;
            default:
                throw new UsageException("unknown --device '" + name + "' (known: cpu, reference)");
        }
        Backends.setDefault(b);
        return b;
    }
}
