package io.github.grad4j.cli;

import io.github.grad4j.backend.Backend;
import io.github.grad4j.backend.reference.ReferenceBackend;
import io.github.grad4j.tensor.Backends;

/**
 * The one place that turns {@code --device NAME} into a backend. Today only the reference backend
 * exists, so "cpu" means it too; when the fast CPU backend (and later OpenCL) arrives, map the name
 * to it here and every command follows.
 */
public final class Devices {
    /** The names {@link #select} accepts. */
    public static final String KNOWN = "cpu, reference";

    private Devices() {
    }

    /** The backend for a device name; a usage error naming the known devices otherwise. */
    public static Backend select(String name) {
        switch (name) {
            case "cpu":       // the fast CPU backend is not merged yet; the reference backend stands in
            case "reference":
                return ReferenceBackend.INSTANCE;
            case "opencl":
            case "auto":
                throw new UsageException("--device " + name + " is not available yet (known: " + KNOWN + ")");
            default:
                throw new UsageException("unknown --device '" + name + "' (known: " + KNOWN + ")");
        }
    }

    /**
     * Reads {@code --device} and {@code --threads} (declared by {@link Options#common}), makes the
     * device the default backend and returns it.
     */
    public static Backend apply(Options options) {
        Backend backend = select(options.string("--device"));
        if (options.stringOrNull("--threads") != null && options.integer("--threads") < 1) {
            throw new UsageException("--threads must be at least 1, got " + options.integer("--threads"));
        }
        // --threads has no effect yet: the reference backend is single-threaded
        Backends.setDefault(backend);
        return backend;
    }
}
