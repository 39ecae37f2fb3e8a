package io.github.grad4j.experiments.meta.data;

import java.io.IOException;

/**
 * Thrown when a data file or folder exists but its content does not have the expected layout or
 * format (wrong magic number, truncated file, malformed label line, unreadable image, ...).
 *
 * <p>The message always names the offending file, archive entry or line, because the typical reader
 * of this message is someone staring at a folder of thousands of files.
 */
public class DatasetFormatException extends IOException {

    public DatasetFormatException(String message) {
        super(message);
    }

    public DatasetFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
