/**
 * Asymmetric uniform quantization for quantization-aware training, and the analysis of how its range
 * parameterization shapes the gradients (You et al., arXiv 2404.16898).
 *
 * <ul>
 * <li>{@link io.github.grad4j.experiments.quant.Quantizer}: fake quantization with the straight-through
 *     estimator, as a module whose parameters are the range; subclasses
 *     {@link io.github.grad4j.experiments.quant.ScaleOffsetQuantizer},
 *     {@link io.github.grad4j.experiments.quant.MinMaxQuantizer},
 *     {@link io.github.grad4j.experiments.quant.BetaGammaQuantizer} (with or without sigmoid); per tensor or
 *     per channel along any axis ({@link io.github.grad4j.experiments.quant.QuantConfig}).</li>
 * <li>{@link io.github.grad4j.experiments.quant.RangeInit}: min/max, percentile and MSE-optimal ranges.</li>
 * <li>{@link io.github.grad4j.experiments.quant.GradientSplit}: range gradients split into
 *     inside/below/above contributions.</li>
 * <li>{@link io.github.grad4j.experiments.quant.QuantGradientAnalysis}: the {@code quant analyze} command;
 *     {@link io.github.grad4j.experiments.quant.ToyTable} reproduces the reference note's toy table;
 *     {@link io.github.grad4j.experiments.quant.QuantPlots} defines the plots.</li>
 * </ul>
 *
 * <p>The backward is composed from engine ops (only the straight-through round and the LSQ gradient
 * scale are new rules, both identities), so it is twice differentiable in the engine's sense. Note
 * that under the straight-through convention the second derivative is that of the surrogate
 * (round' = 1, round'' = 0), not a finite difference of the first derivative: the true quantizer is
 * piecewise constant in x.
 */
package io.github.grad4j.experiments.quant;
