package io.github.grad4j.experiments.meta.maml;

/**
 * Settings of a MAML-family learner. MAML, Meta-SGD and Bayesian-TAML differ only here.
 *
 * @param innerStepsTrain  inner gradient steps while meta-training (5 in the papers)
 * @param innerStepsTest   inner gradient steps at meta-test (10 in Bayesian-TAML)
 * @param innerLr          MAML's fixed inner step size, or Meta-SGD's initial per-parameter one
 * @param learnedInnerLr   Meta-SGD: per-parameter inner step sizes alpha are meta-parameters
 * @param firstOrder       drop second-order terms: inner gradients are detached (FOMAML); then
 *                         omega, whose only effect is through the inner gradients, gets no gradient
 * @param zeroInitHead     the classifier head starts at zero for every task (not meta-learned)
 * @param omega            Bayesian-TAML class-imbalance weights on per-class inner losses
 * @param gamma            Bayesian-TAML per-layer inner step scales exp(gamma)
 * @param z                Bayesian-TAML per-channel modulation of the initialization
 * @param testSamples      Monte Carlo samples of the balancing variables at meta-test
 * @param maxShot          the largest shot count tasks can have (normalizes class sizes for the
 *                         inference network)
 */
public record MetaLearnerConfig(int innerStepsTrain, int innerStepsTest, double innerLr, boolean learnedInnerLr,
                                boolean firstOrder, boolean zeroInitHead, boolean omega, boolean gamma, boolean z,
                                int testSamples, int maxShot) {

    public MetaLearnerConfig {
        if (innerStepsTrain < 0 || innerStepsTest < 0) {
            throw new IllegalArgumentException("inner steps must be >= 0, got " + innerStepsTrain + " / " + innerStepsTest);
        }
        if (!(innerLr > 0)) throw new IllegalArgumentException("innerLr must be > 0, got " + innerLr);
        if (testSamples < 1) throw new IllegalArgumentException("testSamples must be >= 1, got " + testSamples);
        if (maxShot < 1) throw new IllegalArgumentException("maxShot must be >= 1, got " + maxShot);
    }

    /** MAML: fixed inner step size, second order, zero head, 5 / 10 inner steps. */
    public static MetaLearnerConfig maml(double innerLr, int maxShot) {
        return new MetaLearnerConfig(5, 10, innerLr, false, false, true, false, false, false, 1, maxShot);
    }

    /** Meta-SGD: per-parameter inner step sizes initialized to 0.01. */
    public static MetaLearnerConfig metaSgd(int maxShot) {
        return new MetaLearnerConfig(5, 10, 0.01, true, false, true, false, false, false, 1, maxShot);
    }

    /** Bayesian-TAML: Meta-SGD plus omega, gamma and z, 10 Monte Carlo samples at test. */
    public static MetaLearnerConfig bayesianTaml(int maxShot) {
        return new MetaLearnerConfig(5, 10, 0.01, true, false, true, true, true, true, 10, maxShot);
    }

    /** The same with another inner step size (for Meta-SGD and Bayesian-TAML: the initial per-parameter value). */
    public MetaLearnerConfig withInnerLr(double lr) {
        return new MetaLearnerConfig(innerStepsTrain, innerStepsTest, lr, learnedInnerLr, firstOrder, zeroInitHead, omega, gamma,
                z, testSamples, maxShot);
    }

    /** Whether an inference network is needed. */
    public boolean anyBalancing() {
        return omega || gamma || z;
    }

    public MetaLearnerConfig withInnerSteps(int train, int test) {
        return new MetaLearnerConfig(train, test, innerLr, learnedInnerLr, firstOrder, zeroInitHead, omega, gamma, z,
                testSamples, maxShot);
    }

    public MetaLearnerConfig withFirstOrder(boolean enabled) {
        return new MetaLearnerConfig(innerStepsTrain, innerStepsTest, innerLr, learnedInnerLr, enabled, zeroInitHead,
                omega, gamma, z, testSamples, maxShot);
    }

    public MetaLearnerConfig withZeroInitHead(boolean enabled) {
        return new MetaLearnerConfig(innerStepsTrain, innerStepsTest, innerLr, learnedInnerLr, firstOrder, enabled,
                omega, gamma, z, testSamples, maxShot);
    }

    /** Switches the balancing variables individually (ablations). */
    public MetaLearnerConfig withBalancing(boolean omega, boolean gamma, boolean z) {
        return new MetaLearnerConfig(innerStepsTrain, innerStepsTest, innerLr, learnedInnerLr, firstOrder, zeroInitHead,
                omega, gamma, z, testSamples, maxShot);
    }

    public MetaLearnerConfig withTestSamples(int samples) {
        return new MetaLearnerConfig(innerStepsTrain, innerStepsTest, innerLr, learnedInnerLr, firstOrder, zeroInitHead,
                omega, gamma, z, samples, maxShot);
    }
}
