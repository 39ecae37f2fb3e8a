/**
 * MxML (Park et al. 2019, arXiv 1904.05658): a mixture of meta-learners weighted per episode by a
 * weight prediction network.
 *
 * <ul>
 *   <li>{@link io.github.grad4j.experiments.meta.mxml.FrozenLearner}: a trained prototypical network,
 *       run without a graph in evaluation mode; gives a
 *       {@link io.github.grad4j.experiments.meta.mxml.SupportSummary} of the support set and query
 *       log-probabilities.</li>
 *   <li>{@link io.github.grad4j.experiments.meta.mxml.WeightPredictionNetwork}: summaries of all
 *       learners to softmax mixing weights (starts as the uniform ensemble).</li>
 *   <li>{@link io.github.grad4j.experiments.meta.mxml.Mixture}: log p(y|x) = logsumexp_m(log w_m +
 *       log p_m(y|x)) and its query cross-entropy.</li>
 *   <li>{@link io.github.grad4j.experiments.meta.mxml.MxmlModel} (save/load),
 *       {@link io.github.grad4j.experiments.meta.mxml.MxmlTrainer} (WPN training with frozen learners),
 *       {@link io.github.grad4j.experiments.meta.mxml.MxmlEvaluation} (paired evaluation against each
 *       learner, the uniform ensemble and a union learner),
 *       {@link io.github.grad4j.experiments.meta.mxml.LearnerTrainer} (base and union learners on
 *       {@link io.github.grad4j.experiments.meta.mxml.EpisodeSources}),
 *       {@link io.github.grad4j.experiments.meta.mxml.MxmlExperiment} (the whole study, see docs/mxml.md).</li>
 * </ul>
 */
package io.github.grad4j.experiments.meta.mxml;
