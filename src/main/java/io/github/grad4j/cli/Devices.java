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
            throw new UsageException("unknown --device '" + name + "' (known: " + KNOWN + ")");
        } catch (IllegalStateException e) {
            throw new EnvironmentException(e.getMessage());
        }
        Backends.setDefault(b);
        return b;
    }

    /** The names {@link #select} accepts. */
    public static final String KNOWN = "cpu, opencl, auto, reference";

    /** As {@link #select(String, PrintStream)}, logging to standard error. */
    public static Backend select(String name) {
        return select(name, System.err);
    }

    /**
     * Reads {@code --device} and {@code --threads} (declared by {@link Options#common}), makes the
     * device the default backend and returns it. --threads sizes the cpu backend's thread pool.
     */
    public static Backend apply(Options options) {
        String threads = options.stringOrNull("--threads");
        if (threads != null) {
            int n = options.integer("--threads");
            if (n < 1) throw new UsageException("--threads must be at least 1, got " + n);
            if (options.string("--device").equals("cpu")) {
                Backend b = io.github.grad4j.backend.cpu.CpuBackend.create(n, io.github.grad4j.backend.cpu.CpuBackend.vectorApiAvailable());
                Backends.setDefault(b);
                return b;
            }
        }
        return select(options.string("--device"), System.err);
    }

    /** The machine lacks something the command needs (exit code 3). */
    public static final class EnvironmentException extends RuntimeException {
        public EnvironmentException(String message) {
            super(message);
        }
    }
}
