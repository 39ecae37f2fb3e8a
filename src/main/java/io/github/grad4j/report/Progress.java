package io.github.grad4j.report;

import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * One-line progress reporter for long runs, e.g.
 * {@code step 120/1000 [=====>     ] 12% loss 3.2101 | 15.2k tok/s | elapsed 1m02s | left 7m40s}.
 *
 * <p>Throughput (units such as tokens or episodes per second) and the ETA come from a sliding time
 * window, so they follow the current speed rather than the all-time average. On an interactive
 * terminal the line is redrawn in place with a carriage return (at most every
 * {@code redrawInterval}); otherwise (CI logs, files) a full line is printed every
 * {@code lineInterval} so logs stay readable. Not thread-safe: call it from the training loop. Example:
 *
 * <pre>{@code
 * Progress progress = Progress.builder(totalSteps).unitName("tok").build();
 * for (long step = 1; step <= totalSteps; step++) {
 *     ... train ...
 *     progress.metric("loss", loss).update(step, tokensInThisStep);
 * }
 * progress.finish();
 * }</pre>
 */
public final class Progress {

    private record Sample(long nanos, long step, double units) {}

    private final long total;
    private final String unitName;
    private final PrintStream out;
    private final LongSupplier clock;
    private final boolean interactive;
    private final long lineIntervalNanos;
    private final long redrawIntervalNanos;
    private final long windowNanos;
    private final int barWidth;

    private final Map<String, String> metrics = new LinkedHashMap<>();
    private final Deque<Sample> window = new ArrayDeque<>();
    private final long startNanos;
    private long step;
    private double totalUnits;
    private long lastPrintNanos;
    private boolean printedAny;
    private int lastLineLength;
    private boolean finished;

    private Progress(Builder b) {
        this.total = b.total;
        this.unitName = b.unitName;
        this.out = b.out;
        this.clock = b.clock;
        this.interactive = b.interactive != null ? b.interactive : System.console() != null;
        this.lineIntervalNanos = b.lineInterval.toNanos();
        this.redrawIntervalNanos = b.redrawInterval.toNanos();
        this.windowNanos = b.window.toNanos();
        this.barWidth = b.barWidth;
        this.startNanos = clock.getAsLong();
        window.add(new Sample(startNanos, 0, 0));
    }

    /** Starts configuring a reporter for {@code totalSteps} steps (0 or less if unknown). */
    public static Builder builder(long totalSteps) {
        return new Builder(totalSteps);
    }

    /** Configuration of a {@link Progress}. */
    public static final class Builder {
        private final long total;
        private String unitName;
        private PrintStream out = System.err;
        private LongSupplier clock = System::nanoTime;
        private Boolean interactive;
        private Duration lineInterval = Duration.ofSeconds(10);
        private Duration redrawInterval = Duration.ofMillis(200);
        private Duration window = Duration.ofSeconds(30);
        private int barWidth = 20;

        private Builder(long total) {
            this.total = total;
        }

        /** Name of the throughput unit, e.g. {@code "tok"} gives {@code 15.2k tok/s}; null hides throughput. */
        public Builder unitName(String name) {
            this.unitName = name;
            return this;
        }

        /** Output stream (default {@code System.err}). */
        public Builder out(PrintStream stream) {
            this.out = stream;
            return this;
        }

        /** Clock in nanoseconds (default {@code System::nanoTime}); inject a fake one in tests. */
        public Builder clock(LongSupplier nanos) {
            this.clock = nanos;
            return this;
        }

        /** Forces in-place redraws (true) or periodic full lines (false); default: whether a console is attached. */
        public Builder interactive(boolean enabled) {
            this.interactive = enabled;
            return this;
        }

        /** How often a full line is printed in non-interactive mode (default 10 s). */
        public Builder lineInterval(Duration interval) {
            this.lineInterval = interval;
            return this;
        }

        /** Minimum time between in-place redraws in interactive mode (default 200 ms). */
        public Builder redrawInterval(Duration interval) {
            this.redrawInterval = interval;
            return this;
        }

        /** Length of the sliding window for rate and ETA (default 30 s). */
        public Builder window(Duration length) {
            this.window = length;
            return this;
        }

        /** Width of the bar in characters (default 20; 0 hides it). */
        public Builder barWidth(int characters) {
            this.barWidth = characters;
            return this;
        }

        /** Creates the reporter; its elapsed time starts now. */
        public Progress build() {
            return new Progress(this);
        }
    }

    /** Sets a metric shown after the percentage, formatted with 5 significant digits; order is kept. */
    public Progress metric(String name, double value) {
        metrics.put(name, Numbers.sig(value, 5, "NaN"));
        return this;
    }

    /** Sets a metric shown verbatim. */
    public Progress metric(String name, String value) {
        metrics.put(name, value);
        return this;
    }

    /** Records that {@code currentStep} is done; prints if due. */
    public void update(long currentStep) {
        update(currentStep, 0);
    }

    /** Records that {@code currentStep} is done and {@code unitsSinceLastUpdate} more units were processed. */
    public void update(long currentStep, double unitsSinceLastUpdate) {
        long now = clock.getAsLong();
        step = currentStep;
        totalUnits += unitsSinceLastUpdate;
        window.addLast(new Sample(now, step, totalUnits));
        // Keep one sample at or before the window start as the baseline of the rate.
        while (window.size() > 2 && now - secondOldest().nanos() >= windowNanos) {
            window.removeFirst();
        }
        long interval = interactive ? redrawIntervalNanos : lineIntervalNanos;
        if (!printedAny || now - lastPrintNanos >= interval) {
            print(line(now), false);
            lastPrintNanos = now;
            printedAny = true;
        }
    }

    /** Prints the final line with the total time and average throughput; later calls do nothing. */
    public void finish() {
        if (finished) {
            return;
        }
        finished = true;
        long now = clock.getAsLong();
        double seconds = (now - startNanos) / 1e9;
        StringBuilder text = new StringBuilder(head());
        if (unitName != null && seconds > 0) {
            text.append(" | ").append(Numbers.si(totalUnits / seconds)).append(' ').append(unitName).append("/s avg");
        }
        text.append(" | total ").append(Numbers.duration(seconds));
        print(text.toString(), true);
    }

    /** The line that would be printed now (without printing it). */
    public String currentLine() {
        return line(clock.getAsLong());
    }

    private Sample secondOldest() {
        var iterator = window.iterator();
        iterator.next();
        return iterator.next();
    }

    private String line(long now) {
        StringBuilder text = new StringBuilder(head());
        Sample oldest = window.peekFirst();
        double windowSeconds = (now - oldest.nanos()) / 1e9;
        if (unitName != null) {
            String rate = windowSeconds > 0 ? Numbers.si((totalUnits - oldest.units()) / windowSeconds) : "?";
            text.append(" | ").append(rate).append(' ').append(unitName).append("/s");
        }
        text.append(" | elapsed ").append(Numbers.duration((now - startNanos) / 1e9));
        if (total > 0) {
            double stepsPerSecond = windowSeconds > 0 ? (step - oldest.step()) / windowSeconds : 0;
            String left = stepsPerSecond > 0 ? Numbers.duration(Math.max(0, total - step) / stepsPerSecond) : "?";
            text.append(" | left ").append(left);
        }
        return text.toString();
    }

    /** {@code step 120/1000 [=====>     ] 12% loss 3.2101} */
    private String head() {
        StringBuilder text = new StringBuilder("step ").append(step);
        if (total > 0) {
            text.append('/').append(total);
            double fraction = Math.max(0, Math.min(1, step / (double) total));
            if (barWidth > 0) {
                int filled = (int) Math.floor(fraction * barWidth);
                text.append(" [").append("=".repeat(filled));
                if (filled < barWidth) {
                    text.append('>').append(" ".repeat(barWidth - filled - 1));
                }
                text.append(']');
            }
            text.append(' ').append((int) Math.floor(fraction * 100)).append('%');
        }
        for (Map.Entry<String, String> metric : metrics.entrySet()) {
            text.append(' ').append(metric.getKey()).append(' ').append(metric.getValue());
        }
        return text.toString();
    }

    private void print(String text, boolean last) {
        if (interactive) {
            // Pad with spaces to wipe the rest of a longer previous line.
            String padding = " ".repeat(Math.max(0, lastLineLength - text.length()));
            out.print("\r" + text + padding + (last ? "\n" : ""));
            lastLineLength = text.length();
        } else {
            out.println(text);
        }
        out.flush();
    }
}
