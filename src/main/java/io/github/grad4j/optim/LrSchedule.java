package io.github.grad4j.optim;

/**
 * A learning rate as a pure function of the (0-based) step index, so a resumed run gets the same
 * rates without any schedule state. Call {@code optimizer.setLearningRate(schedule.at(step))}
 * before each step.
 */
@FunctionalInterface
public interface LrSchedule {

    /** The learning rate for step {@code step} (0-based). */
    double at(long step);

    /** The same rate at every step. */
    static LrSchedule constant(double lr) {
        if (!(lr >= 0)) throw new IllegalArgumentException("LrSchedule.constant: lr must be >= 0, got " + lr);
        return step -> lr;
    }

    /**
     * nanoGPT's get_lr: linear warmup lr (step + 1) / (warmupSteps + 1) for step &lt; warmupSteps;
     * then cosine decay from lr to minLr, reaching minLr at step decaySteps; minLr afterwards.
     *
     * @param decaySteps the step at which the decay ends (nanoGPT's lr_decay_iters), &gt; warmupSteps
     */
    static LrSchedule warmupCosine(double lr, double minLr, long warmupSteps, long decaySteps) {
        if (!(lr >= 0 && minLr >= 0 && minLr <= lr)) {
            throw new IllegalArgumentException("LrSchedule.warmupCosine: need 0 <= minLr <= lr, got lr " + lr + ", minLr " + minLr);
        }
        if (warmupSteps < 0 || decaySteps <= warmupSteps) {
            throw new IllegalArgumentException("LrSchedule.warmupCosine: need 0 <= warmupSteps < decaySteps, got warmup "
                    + warmupSteps + ", decay " + decaySteps);
        }
        return step -> {
            if (step < 0) throw new IllegalArgumentException("LrSchedule: step must be >= 0, got " + step);
            if (step < warmupSteps) return lr * (step + 1) / (warmupSteps + 1);
            if (step > decaySteps) return minLr;
            double decayRatio = (double) (step - warmupSteps) / (decaySteps - warmupSteps);
            double coeff = 0.5 * (1.0 + Math.cos(Math.PI * decayRatio));
            return minLr + coeff * (lr - minLr);
        };
    }
}
