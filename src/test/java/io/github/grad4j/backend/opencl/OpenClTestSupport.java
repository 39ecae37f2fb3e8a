package io.github.grad4j.backend.opencl;

import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

/**
 * The OpenCL backend shared by the tests. Without a usable device the tests are skipped with the
 * reason, unless {@code -Dgrad4j.requireOpenCl=true}, which turns the skip into a failure (CI on a
 * machine with PoCL or a GPU should set it).
 */
final class OpenClTestSupport {
    private static OpenClBackend backend;
    private static String failure;

    private OpenClTestSupport() {
    }

    static boolean required() {
        return Boolean.getBoolean("grad4j.requireOpenCl");
    }

    static synchronized OpenClBackend backend() {
        if (backend == null && failure == null) {
            try {
                backend = OpenClBackend.create();
            } catch (IllegalStateException | LinkageError e) {
                failure = String.valueOf(e.getMessage());
            }
        }
        if (backend == null) {
            String msg = "no usable OpenCL device (" + failure + ")";
            if (required()) Assertions.fail(msg + " and -Dgrad4j.requireOpenCl=true");
            Assumptions.abort(msg + "; set -Dgrad4j.requireOpenCl=true to make this a failure");
        }
        return backend;
    }
}
