/**
 * Optimizers (SGD, Adam, AdamW with PyTorch's update rules), gradient clipping, learning-rate
 * schedules as pure functions of the step, and {@link io.github.grad4j.optim.TrainingCheckpoint},
 * which saves and restores a whole training state (model, optimizer, step, generators, metadata)
 * as one safetensors file.
 *
 * <p>A training step: {@code opt.setLearningRate(schedule.at(step)); opt.zeroGrad();
 * loss.backward(); GradClip.clipGradNorm(params, 1.0); opt.step();}
 */
package io.github.grad4j.optim;
