package io.github.grad4j.backend;

import io.github.grad4j.backend.reference.ReferenceBackend;

import java.io.PrintStream;
import java.lang.reflect.InvocationTargetException;

/**
 * Picks a backend by name: "cpu", "opencl", "auto" (OpenCL when a device works, else the CPU) or
 * "reference" (the plain specification backend).
 *
 * <p>The OpenCL backend is loaded by reflection, so that this class, and everything an embedder
 * using only the CPU touches, runs without Aparapi (an optional dependency) on the class path.
 */
public final class BackendSelector {
    static final String OPENCL_CLASS = "io.github.grad4j.backend.opencl.OpenClBackend";

    private BackendSelector() {
    }

    /**
     * The backend named {@code name}. "opencl" throws IllegalStateException with the reason when
     * no OpenCL device can be used; "auto" logs that reason and falls back to the CPU.
     */
    public static Backend select(String name, PrintStream log) {
        switch (name == null ? "" : name.trim().toLowerCase(java.util.Locale.ROOT)) {
            case "cpu":
                return cpu();
            case "reference":
                return ReferenceBackend.INSTANCE;
            case "opencl":
                return openCl();
            case "auto":
                try {
                    Backend b = openCl();
                    log.println("backend: opencl (" + b + ")");
                    return b;
                } catch (IllegalStateException e) {
                    Backend cpu = cpu();
                    log.println("backend: " + cpu.name() + " (OpenCL not used: " + e.getMessage() + ")");
                    return cpu;
                }
            default:
                throw new IllegalArgumentException("unknown backend '" + name + "'; expected cpu, opencl, auto or reference");
        }
    }

    /** The fast CPU backend (float32 Vector API kernels; plain loops where the module is absent). */
    public static Backend cpu() {
        return io.github.grad4j.backend.cpu.CpuBackend.create();
    }

    /** A new OpenCL backend on the default device; IllegalStateException with the reason when impossible. */
    public static Backend openCl() {
        Class<?> type;
        try {
            type = Class.forName(OPENCL_CLASS);
        } catch (ClassNotFoundException | LinkageError e) {
            throw new IllegalStateException("opencl: backend classes are not available (" + e + ")", e);
        }
        try {
            return (Backend) type.getMethod("create").invoke(null);
        } catch (InvocationTargetException e) {
            Throwable cause = e.getCause();
            if (cause instanceof IllegalStateException ise) throw ise;
            if (cause instanceof LinkageError) {
                throw new IllegalStateException("opencl: Aparapi is not on the class path (it is an optional "
                        + "dependency: add com.aparapi:aparapi or use the executable jar): " + cause, cause);
            }
            throw new IllegalStateException("opencl: could not start: " + cause, cause);
        } catch (ReflectiveOperationException | LinkageError e) {
            throw new IllegalStateException("opencl: could not start: " + e, e);
        }
    }
}
