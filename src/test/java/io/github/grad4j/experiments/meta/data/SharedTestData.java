package io.github.grad4j.experiments.meta.data;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Locates the shared (never copied into the repository) data folder: {@code ../shared} relative to
 * the Maven basedir, or {@code -Dgrad4j.shared=/path/to/shared}. Tests needing it are skipped, with a
 * message saying where they looked, when it is absent.
 */
final class SharedTestData {

    private SharedTestData() {
    }

    static Path sharedRoot() {
        String override = System.getProperty("grad4j.shared");
        return override != null && !override.isBlank() ? Path.of(override) : Path.of("..", "shared");
    }

    static Path omniglot(String relative) {
        return sharedRoot().resolve("data").resolve("omniglot").resolve(relative);
    }

    /** Returns the path, or skips the calling test if it does not exist. */
    static Path requireExisting(Path path) {
        assumeTrue(Files.exists(path), () -> "skipped: shared data not found at " + path.toAbsolutePath().normalize()
                + " (set -Dgrad4j.shared=/path/to/shared)");
        return path;
    }
}
