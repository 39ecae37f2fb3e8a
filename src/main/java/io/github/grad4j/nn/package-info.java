/**
 * Modules and layers with PyTorch's parameter names, layouts and default initializations, so
 * state dicts map one to one onto PyTorch checkpoints.
 *
 * <p>Conventions: layers read parameters through {@code param(name)} on every forward, so
 * {@link io.github.grad4j.nn.Module#functionalCall} can substitute adapted weights. The parameter
 * dtype is a constructor argument (FLOAT32 by default in the short constructors, FLOAT64 for
 * gradient checks); there is no after-the-fact conversion of a built module. Layers that draw
 * random numbers take an explicit {@link io.github.grad4j.tensor.Rng}: initialization is
 * deterministic given the seed, weight drawn before bias.
 */
package io.github.grad4j.nn;
