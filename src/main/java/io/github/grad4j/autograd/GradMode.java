package io.github.grad4j.autograd;

/**
 * Whether ops record the graph on this thread. {@code try (var ignored = GradMode.noGrad()) {...}}
 * switches recording off for a scope (evaluation, optimizer updates).
 */
public final class GradMode {
    private static final ThreadLocal<boolean[]> ENABLED = ThreadLocal.withInitial(() -> new boolean[]{true});

    private GradMode() {
    }

    public static boolean isEnabled() {
        return ENABLED.get()[0];
    }

    /** A scope in which no graph is recorded; closing it restores the previous mode. */
    public static Scope noGrad() {
        return set(false);
    }

    /** A scope in which the graph is recorded even inside an outer no-grad scope. */
    public static Scope enableGrad() {
        return set(true);
    }

    private static Scope set(boolean enabled) {
        boolean[] flag = ENABLED.get();
        boolean previous = flag[0];
        flag[0] = enabled;
        return () -> flag[0] = previous;
    }

    /** An AutoCloseable that does not throw. */
    public interface Scope extends AutoCloseable {
        @Override
        void close();
    }
}
