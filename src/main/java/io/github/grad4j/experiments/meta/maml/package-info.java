/**
 * MAML, Meta-SGD and Bayesian-TAML (Lee et al., ICLR 2020, "Learning to Balance").
 *
 * <p>{@link io.github.grad4j.experiments.meta.maml.BaseNetwork} builds the Conv-4 base network from
 * nn layers and names the roles of its parameters; {@link io.github.grad4j.experiments.meta.maml.MetaLearner}
 * runs the inner loop through {@link io.github.grad4j.nn.Module#functionalCall} with second-order
 * meta-gradients (or first order), learned per-parameter step sizes and the balancing variables
 * omega, gamma and z drawn from {@link io.github.grad4j.experiments.meta.maml.InferenceNetwork};
 * {@link io.github.grad4j.experiments.meta.maml.MetaEvaluation} meta-tests with 95% confidence
 * intervals; the command-line runner {@code io.github.grad4j.cli.MetaLearningRunner} holds the train / eval /
 * bench entry points for the CLI.
 */
package io.github.grad4j.experiments.meta.maml;
