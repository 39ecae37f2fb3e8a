package io.github.grad4j.tensor;

import io.github.grad4j.backend.Backend;
import io.github.grad4j.backend.reference.ReferenceBackend;

import java.util.Objects;

/**
 * The default backend for tensors created without an explicit one. It is the only global state
 * of the engine besides the no-grad flag; set it once at start-up (the CLI does, from --device).
 */
public final class Backends {
    private static volatile Backend defaultBackend = ReferenceBackend.INSTANCE;

    private Backends() {
    }

    public static Backend defaultBackend() {
        return defaultBackend;
    }

    public static void setDefault(Backend backend) {
        defaultBackend = Objects.requireNonNull(backend, "backend");
    }

    /**
     * A scope that puts back the current default backend when closed, for code that sets it for a
     * while (a command's --device): {@code try (var ignored = Backends.keepDefault()) {...}}.
     */
    public static Scope keepDefault() {
        Backend saved = defaultBackend;
        return () -> defaultBackend = saved;
    }

    /** An AutoCloseable that does not throw. */
    public interface Scope extends AutoCloseable {
        @Override
        void close();
    }
}
