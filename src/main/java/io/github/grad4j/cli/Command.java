package io.github.grad4j.cli;

import java.io.PrintStream;

/** One subcommand of {@code java -jar grad4j.jar}. */
public interface Command {
    /** The words that select it, e.g. "gpt2 train". */
    String name();

    /** One line for the command list. */
    String summary();

    /** Runs it; returns the exit code. Throw {@link UsageException} for mistakes in the call. */
    int run(String[] args, PrintStream out) throws Exception;
}
