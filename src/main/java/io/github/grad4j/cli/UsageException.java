package io.github.grad4j.cli;

/** A mistake in how a command was called: reported without a stack trace, exit code 2. */
public final class UsageException extends RuntimeException {
    public UsageException(String message) {
        super(message);
    }
}
