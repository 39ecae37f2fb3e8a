package io.github.grad4j.cli;

import io.github.grad4j.backend.Backend;
import io.github.grad4j.backend.BackendSelector;
import io.github.grad4j.tensor.Backends;

import java.io.PrintStream;

/** Turns a --device value into a backend and makes it the default for the command. */
public final class Devices {
    private Devices() {
    }

    /**
     * cpu (fast float32 kernels), reference (the plain specification), opencl (fails with the reason
     * when no OpenCL device works: exit code 3), auto (OpenCL if it works, else cpu, and says so).
     */
    public static Backend select(String name, PrintStream log) {
        Backend b;
        try {
            b = BackendSelector.select(name, log);
        } catch (IllegalArgumentException e) {
            throw new UsageException("unknown --device '" + name + "' (known: cpu, opencl, auto, reference)");
        } catch (IllegalStateException e) {
            throw new EnvironmentException(e.getMessage());
        }
        Backends.setDefault(b);
        return b;
    }

    /** The machine lacks something the command needs (exit code 3). */
    public static final class EnvironmentException extends RuntimeException {
        public EnvironmentException(String message) {
            super(message);
        }
    }
}
