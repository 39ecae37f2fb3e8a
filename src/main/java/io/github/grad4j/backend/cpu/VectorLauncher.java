package io.github.grad4j.backend.cpu;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Makes a plain {@code java -jar grad4j.jar ...} run with the Vector API: a jar manifest cannot add
 * a module, so when {@code jdk.incubator.vector} is missing, {@link #relaunchIfNeeded} starts the
 * same java executable again with {@code --add-modules jdk.incubator.vector}, the same JVM options,
 * class path and arguments, forwards its exit code, and never returns. A system property marks the
 * child so that it never relaunches again (if the module still is not there, the CPU backend warns
 * and uses scalar loops). Set {@code -Dgrad4j.relaunch=false} to disable.
 *
 * <p>The child also gets heap settings for tensor workloads unless the user chose their own (on
 * the command line or in {@code JDK_JAVA_OPTIONS}): {@code -XX:MaxRAMPercentage=60} (the default
 * quarter of RAM left a GPT-2 124M step's ~3.3 GB live set above G1's 45% occupancy threshold,
 * so nearly every large allocation started a concurrent cycle: 576 pauses, 4.2 s in a 38 s
 * benchmark) and {@code -XX:G1HeapRegionSize=1m} (arrays of 512 KB and more become humongous
 * objects that G1 never copies and frees eagerly; with the larger default regions young
 * collections copied multi-megabyte arrays, pauses of 0.4 s). Together: 56 pauses, 0.44 s.
 *
 * <p>Wiring (first line of the CLI's main): {@code VectorLauncher.relaunchIfNeeded(Main.class, args);}
 */
public final class VectorLauncher {
    /** Set on the relaunched JVM (guard against loops); also settable to false to disable. */
    public static final String PROPERTY = "grad4j.relaunch";
    // kept free of CpuBackend (and so of the rest of the engine) so that relaunching loads nothing else
    private static final String MODULE = "jdk.incubator.vector";

    private VectorLauncher() {
    }

    /**
     * Returns normally when the module is present, relaunching is disabled or already happened, or
     * the command cannot be determined; otherwise runs the child JVM and exits with its status.
     */
    public static void relaunchIfNeeded(Class<?> mainClass, String[] args) {
        if (ModuleLayer.boot().findModule(MODULE).isPresent() || System.getProperty(PROPERTY) != null) return;
        Optional<List<String>> cmd = command(mainClass, args);
        if (cmd.isEmpty()) return;
        try {
            Process p = new ProcessBuilder(cmd.get()).inheritIO().start();
            System.exit(p.waitFor());
        } catch (Exception e) {
            System.err.println("grad4j: could not relaunch with --add-modules " + MODULE
                    + " (" + e + "); continuing without the Vector API");
        }
    }

    /** The child's command line, or empty when this JVM's executable is unknown. */
    static Optional<List<String>> command(Class<?> mainClass, String[] args) {
        Optional<String> exe = ProcessHandle.current().info().command();
        if (exe.isEmpty()) return Optional.empty();
        List<String> cmd = new ArrayList<>();
        cmd.add(exe.get());
        cmd.add("--add-modules");
        cmd.add(MODULE);
        cmd.add("-D" + PROPERTY + "=child");
        String envOptions = System.getenv().getOrDefault("JDK_JAVA_OPTIONS", "");
        List<String> inputArgs = java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments();
        cmd.addAll(heapDefaults(inputArgs, envOptions));
        // JVM options of this run (-Xmx, -D..., agents); JDK_JAVA_OPTIONS reach the child by itself
        for (String opt : inputArgs) {
            if (!envOptions.contains(opt)) cmd.add(opt);
        }
        String jar = jarPath(mainClass);
        if (jar != null) {
            cmd.add("-jar");
            cmd.add(jar);
        } else {
            cmd.add("-cp");
            cmd.add(System.getProperty("java.class.path"));
            cmd.add(mainClass.getName());
        }
        cmd.addAll(List.of(args));
        return Optional.of(cmd);
    }

    /** The heap settings the child gets, minus those the user already set (in {@code args} or {@code envOptions}). */
    static List<String> heapDefaults(List<String> args, String envOptions) {
        List<String> all = new ArrayList<>(args);
        all.addAll(List.of(envOptions.trim().split("\\s+")));
        boolean heapSize = all.stream().anyMatch(a -> a.startsWith("-Xmx") || a.startsWith("-XX:MaxHeapSize")
                || a.startsWith("-XX:MaxRAMPercentage") || a.startsWith("-XX:MaxRAM="));
        boolean regions = all.stream().anyMatch(a -> a.startsWith("-XX:G1HeapRegionSize"));
        List<String> out = new ArrayList<>();
        if (!heapSize) out.add("-XX:MaxRAMPercentage=60");
        if (!regions) out.add("-XX:G1HeapRegionSize=1m");
        return out;
    }

    /** The jar this class runs from when started with -jar, else null. */
    private static String jarPath(Class<?> mainClass) {
        String cp = System.getProperty("java.class.path", "");
        String command = System.getProperty("sun.java.command", "");
        if (cp.endsWith(".jar") && !cp.contains(java.io.File.pathSeparator) && command.startsWith(cp)) return cp;
        return null;
    }
}
