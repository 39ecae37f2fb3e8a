/**
 * Few-shot learning on Omniglot: the {@link io.github.grad4j.experiments.meta.Conv4} embedding,
 * {@link io.github.grad4j.experiments.meta.PrototypicalNetwork} and
 * {@link io.github.grad4j.experiments.meta.Tpn} (both {@link io.github.grad4j.experiments.meta.FewShotModel}s
 * that map an {@link io.github.grad4j.experiments.meta.EpisodeBatch} to an
 * {@link io.github.grad4j.experiments.meta.EpisodeResult}), episodic training
 * ({@link io.github.grad4j.experiments.meta.FewShotTrainer}, configured by
 * {@link io.github.grad4j.experiments.meta.FewShotConfig}, logging through
 * {@link io.github.grad4j.experiments.meta.TrainingCurves}) and evaluation
 * ({@link io.github.grad4j.experiments.meta.FewShotEvaluator}: mean accuracy with 95% intervals,
 * Lake's one-shot runs). Data loading and episode sampling live in the {@code data} subpackage.
 *
 * <p>Everything is backend-agnostic: tensors are created on the default backend and all
 * computation goes through the ops.
 */
package io.github.grad4j.experiments.meta;
