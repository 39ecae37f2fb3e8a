package io.github.grad4j.cli;

import io.github.grad4j.backend.cpu.VectorLauncher;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Entry point of {@code java -jar grad4j.jar}: picks the subcommand by its leading words and runs
 * it. Exit codes: 0 success, 1 failure (bad data, diverged run, failed check), 2 usage error,
 * 3 missing environment (e.g. no OpenCL device), 70 internal error.
 */
public final class Main {
    public static final int OK = 0, FAILURE = 1, USAGE = 2, ENVIRONMENT = 3, INTERNAL = 70;

    private Main() {
    }

    /** All commands, in the order the help lists them. */
    static List<Command> commands() {
        List<Command> list = new ArrayList<>();
        list.add(new DemoCommand());
        list.add(new Gpt2TrainCommand());
        list.add(new Gpt2EvalCommand());
        list.add(new Gpt2GenerateCommand());
        list.add(new Gpt2QatCommand());
        list.add(new Gpt2QuadapterCommand());
        list.add(new TokenizeCommand());
        list.add(new QuantAnalyzeCommand());
        list.add(new FewShotTrainCommand());
        list.add(new FewShotEvalCommand());
        list.add(new FewShotMxml.ExperimentCommand());
        list.add(new MetaReportCommand());
        list.add(new BenchCommand());
        list.add(new DevicesCommand());
        return list;
    }

    public static void main(String[] args) {
        // The Vector API is an incubator module a jar manifest cannot add: restart this JVM with it
        // (once) so the fast CPU kernels run; -Dgrad4j.relaunch=false disables this.
        VectorLauncher.relaunchIfNeeded(Main.class, args);
        System.exit(run(args, System.out, System.err));
    }

    public static int run(String[] args, PrintStream out, PrintStream err) {
        boolean verbose = Arrays.asList(args).contains("--verbose");
        if (args.length == 0 || args[0].equals("--help") || args[0].equals("-h") || args[0].equals("help")) {
            out.print(overview());
            return args.length == 0 ? USAGE : OK;
        }
        if (args[0].equals("--version")) {
            out.println("grad4j " + version());
            return OK;
        }
        Command best = null;
        int bestWords = 0;
        for (Command c : commands()) {
            String[] words = c.name().split(" ");
            if (words.length <= args.length && words.length > bestWords
                    && Arrays.equals(words, Arrays.copyOf(args, words.length))) {
                best = c;
                bestWords = words.length;
            }
        }
        if (best == null) {
            err.println("grad4j: error: unknown command '" + args[0] + "'\n");
            err.print(overview());
            return USAGE;
        }
        String[] rest = Arrays.copyOfRange(args, bestWords, args.length);
        // commands set the default backend from --device; an embedding program (or a test) gets its own back
        try (var ignored = io.github.grad4j.tensor.Backends.keepDefault()) {
            return best.run(rest, out);
        } catch (Devices.EnvironmentException e) {
            err.println("grad4j " + best.name() + ": error: " + e.getMessage());
            if (verbose) e.printStackTrace(err);
            return ENVIRONMENT;
        } catch (UsageException e) {
            err.println("grad4j " + best.name() + ": error: " + e.getMessage());
            if (verbose) e.printStackTrace(err);
            return USAGE;
        } catch (IllegalArgumentException | IllegalStateException | IOException | UncheckedIOException
                 | ArithmeticException | IndexOutOfBoundsException e) {
            // mistakes in data, files or settings: the message says what and where
            err.println("grad4j " + best.name() + ": error: " + e.getMessage());
            if (verbose) e.printStackTrace(err);
            else err.println("(run with --verbose for the stack trace)");
            return FAILURE;
        } catch (Exception | Error e) {
            err.println("grad4j " + best.name() + ": internal error: " + e);
            e.printStackTrace(err);
            return INTERNAL;
        }
    }

    static String version() {
        String v = Main.class.getPackage().getImplementationVersion();
        return v == null ? "development build" : v;
    }

    static String overview() {
        StringBuilder sb = new StringBuilder();
        sb.append("grad4j: a pure-Java tensor and autodiff engine for quantization-aware training and "
                + "few-shot meta-learning\n\n");
        sb.append("usage: java -jar target/grad4j.jar <command> [options]   (each command has --help)\n\ncommands:\n");
        for (Command c : commands()) sb.append(String.format("  %-22s %s%n", c.name(), c.summary()));
        sb.append("\nglobal: --help, --version, --verbose (stack traces on errors)\n");
        return sb.toString();
    }
}
