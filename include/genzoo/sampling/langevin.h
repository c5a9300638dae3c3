#pragma once
// Markov chains on an energy E(x) = −log p(x) + const, given as a function
// (sampling/energy.h), so they depend on no model and composing models is
// adding energies. Every chain takes gradients with respect to x alone
// (input_gradient): no parameter's .grad is touched. Three samplers:
//
//   langevin  x ← x − a·clip(∇E(x)) + b·ξ,  ξ ~ N(0, I).
//             With a = ε²/2 and b = ε it is the discretised Langevin
//             diffusion of Xie et al. 2016 (eq. 11; for the Generative
//             ConvNet E(I) = ‖I‖²/2σ² − f(I)): LangevinOptions::coupled(ε).
//             With a and b chosen apart it is IGEBM's sampler (Du &
//             Mordatch 2019: step λ on the gradient, noise of its own
//             scale, per-element gradient clipping, clamping to the data
//             range): LangevinOptions::separate(a, b). Unadjusted: its
//             stationary law is biased by O(ε²).
//   mala      The same proposal with a = ε²/2, b = ε, accepted with
//             probability min(1, p(x′) q(x | x′) / p(x) q(x′ | x)), q the
//             Gaussian proposal N(x − a∇E(x), b²I) (Roberts & Tweedie 1996):
//             exact in the limit of many steps, at any ε.
//   hmc       Hamiltonian Monte Carlo (Neal 2011): momentum p ~ N(0, I), L
//             leapfrog steps of size h on H(x, p) = E(x) + ‖p‖²/2, accepted
//             with probability min(1, exp(H(x, p) − H(x′, p′))).
//
// Each row of x is one chain; acceptance is decided per chain. `observed`
// (optional, x's shape, nonzero = observed) marks entries held exactly fixed
// (inpainting, conditional completion): they are copied bit for bit from the
// start in every state, and the chains move in the free entries alone.
// Values keep x's dtype; the range is whatever the energy is defined on.
#include <torch/torch.h>

#include <cstdint>

#include "genzoo/sampling/energy.h"

namespace genzoo {

struct LangevinOptions {
  /// Steps per call (0 returns the start).
  TORCH_ARG(int64_t, steps) = 10;
  /// a: the coefficient of ∇E(x) in the update.
  TORCH_ARG(double, drift) = 0.045;
  /// b: the standard deviation of the Gaussian noise added at every step.
  TORCH_ARG(double, noise) = 0.3;
  /// Add the noise first and take the gradient at the noisy point,
  /// x ← x + bξ, then x ← x − a·clip(∇E(x)): the order of IGEBM's code.
  TORCH_ARG(bool, noise_first) = false;
  /// Clip every element of ∇E(x) to [−c, c] before the drift; 0 = no clipping.
  TORCH_ARG(double, grad_clip) = 0.0;
  /// Clamp every state to [low, high] after each step.
  TORCH_ARG(bool, clamp) = false;
  TORCH_ARG(double, low) = 0.0;
  TORCH_ARG(double, high) = 1.0;
  /// Keep every k-th state (the start included, and always the last) in
  /// ChainResult::trajectory; 0 keeps none.
  TORCH_ARG(int64_t, record_every) = 0;

 public:  // TORCH_ARG leaves the access private
  /// The diffusion's own discretisation with step ε: a = ε²/2, b = ε.
  static LangevinOptions coupled(double epsilon, int64_t steps);
  /// Gradient step and noise set apart (IGEBM's temperature-like control).
  static LangevinOptions separate(double drift, double noise, int64_t steps);
};

struct MalaOptions {
  /// Proposals per call.
  TORCH_ARG(int64_t, steps) = 10;
  /// ε: proposal N(x − (ε²/2)∇E(x), ε²I).
  TORCH_ARG(double, step_size) = 0.1;
  TORCH_ARG(int64_t, record_every) = 0;
};

struct HmcOptions {
  /// Proposals (trajectories) per call.
  TORCH_ARG(int64_t, steps) = 10;
  /// L: leapfrog steps per proposal.
  TORCH_ARG(int64_t, leapfrog) = 10;
  /// h: leapfrog step size.
  TORCH_ARG(double, step_size) = 0.1;
  TORCH_ARG(int64_t, record_every) = 0;
};

struct ChainResult {
  torch::Tensor x;           ///< the final states, x's shape, detached
  torch::Tensor trajectory;  ///< [T, N, ...] kept states (undefined when record_every = 0)
  torch::Tensor energy;      ///< [N] E at the final states
  torch::Tensor accepted;    ///< [N] share of proposals each chain accepted (1 for Langevin)
  double acceptance = 1.0;   ///< mean of `accepted`
  double grad_norm = 0.0;    ///< mean over steps and chains of ‖∇E(x)‖₂ (before clipping)
  int64_t gradient_evaluations = 0;  ///< calls of the energy with its input gradient
};

/// Unadjusted Langevin dynamics from x0 [N, ...]. `generator` undefined =
/// the global CPU generator.
ChainResult langevin(const EnergyFunction& energy, const torch::Tensor& x0, const LangevinOptions& options,
                     const torch::Tensor& observed = {}, c10::optional<torch::Generator> generator = c10::nullopt);

/// Metropolis-adjusted Langevin from x0 [N, ...].
ChainResult mala(const EnergyFunction& energy, const torch::Tensor& x0, const MalaOptions& options,
                 const torch::Tensor& observed = {}, c10::optional<torch::Generator> generator = c10::nullopt);

/// Hamiltonian Monte Carlo from x0 [N, ...].
ChainResult hmc(const EnergyFunction& energy, const torch::Tensor& x0, const HmcOptions& options,
                const torch::Tensor& observed = {}, c10::optional<torch::Generator> generator = c10::nullopt);

}  // namespace genzoo
