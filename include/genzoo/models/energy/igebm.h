#pragma once
// IGEBM (Du & Mordatch 2019, "Implicit generation and modeling with energy
// based models"): p(x) ∝ exp(−E(x)) with E a ConvNet on x in [0, 1], trained
// by the contrastive gradient with Langevin samples that continue from a
// replay buffer (train/objectives/contrastive.h, sampling/replay_buffer.h).
//
// The networks (model.arch):
//   conv    the paper's MNIST net (the authors' MnistNet): 3x3 conv F, then
//           three 4x4 stride-2 convs F -> F -> 2F -> 4F with "same"
//           padding (28 -> 14 -> 7 -> 4), fc 4F·4·4 -> 2F, fc 2F -> 1;
//   resnet  a small ResNet: 3x3 conv F, three residual blocks (two 3x3
//           convs and the skip, average-pooled by 2) F -> F -> 2F -> 2F,
//           the unit, the sum over positions, fc 2F -> 1 (after the
//           authors' ResNet32, scaled down).
// LeakyReLU (slope 0.2, the authors' TensorFlow default) or Swish after
// every layer but the last. Spectral normalisation (models/spectral_norm.h)
// on every layer but the last when model.spectral_norm (the default); the
// objective runs one power iteration per training step.
//
// Class-conditional energies E(x, y) (model cigebm): every convolution's
// output is scaled and shifted per class, h·γ_y + β_y, γ starting at 1 and β
// at 0 (the authors' per-class gain and bias). Then
//   classification: argmin_y E(x, y) (class_logits = −E(x, ·));
//   the marginal energy E(x) = −log Σ_y exp(−E(x, y)) (OOD scores).
//
// Sampling is IGEBM's Langevin (sampling/langevin.h, LangevinOptions::
// separate): noise of sd model.noise added first, the gradient clipped per
// element to ±model.grad_clip, a step of model.step_size on it, clamped to
// [0, 1]. The step and the noise are set apart on purpose: the chain
// targets exp(−E/T) with T = noise²/(2 step), far below 1 in the recipe.
#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

#include "genzoo/core/enum_names.h"
#include "genzoo/models/model.h"
#include "genzoo/sampling/langevin.h"
#include "genzoo/sampling/replay_buffer.h"

namespace genzoo {

enum class IgebmArch { Conv, ResNet };
/// "conv", "resnet".
const EnumNames<IgebmArch>& igebm_arch_names();
enum class IgebmUnit { LeakyRelu, Swish };
/// "leaky_relu", "swish".
const EnumNames<IgebmUnit>& igebm_unit_names();
/// Where sample() starts its chains: the replay buffer (as the paper's
/// samples; uniform noise while it is empty) or uniform noise.
enum class IgebmStart { Buffer, Noise };
/// "buffer", "noise".
const EnumNames<IgebmStart>& igebm_start_names();

struct IgebmOptions {
  TORCH_ARG(int64_t, channels) = 1;
  TORCH_ARG(int64_t, height) = 28;
  TORCH_ARG(int64_t, width) = 28;
  /// Classes of E(x, y); 0 = an unconditional E(x).
  TORCH_ARG(int64_t, classes) = 0;
  TORCH_ARG(IgebmArch, arch) = IgebmArch::Conv;
  /// F: the first layer's channels (the paper's 64).
  TORCH_ARG(int64_t, filters) = 64;
  TORCH_ARG(IgebmUnit, unit) = IgebmUnit::LeakyRelu;
  TORCH_ARG(bool, spectral_norm) = true;
  /// Langevin: the step on the clipped gradient, the noise sd, the clip
  /// (0 = none), and the steps sample() runs.
  TORCH_ARG(double, step_size) = 10.0;
  TORCH_ARG(double, noise) = 0.005;
  TORCH_ARG(double, grad_clip) = 0.01;
  TORCH_ARG(int64_t, sample_steps) = 60;
  TORCH_ARG(IgebmStart, sample_from) = IgebmStart::Buffer;
  /// Replay buffer capacity (config: objective.buffer_size), split into
  /// one partition per class for a conditional model.
  TORCH_ARG(int64_t, buffer_size) = 10000;
};

struct IgebmImpl : torch::nn::Cloneable<IgebmImpl>, Sampler, Energy, Completer, Restorer {
  explicit IgebmImpl(IgebmOptions options = {});
  void reset() override;

  /// E(x, y) [N] for x [N, C, H, W] in [0, 1]; `labels` int64 [N] for a
  /// conditional model, undefined for an unconditional one.
  torch::Tensor class_energy(const torch::Tensor& x, const torch::Tensor& labels);
  /// The energy of each row under every class, [N, classes] (conditional only).
  torch::Tensor all_class_energies(const torch::Tensor& x);
  /// Energy capability: E(x), or the marginal −logsumexp_y −E(x, y) (conditional).
  torch::Tensor energy(const torch::Tensor& x) override;

  /// The sampler's options for `steps` steps.
  LangevinOptions langevin_options(int64_t steps) const;
  /// Langevin on E(·, labels) from x0 in [0, 1]; `observed` as in langevin().
  ChainResult run_chains(const torch::Tensor& x0, const torch::Tensor& labels, int64_t steps,
                         const torch::Tensor& observed = {});
  /// Chain starts for `labels` (zeros for an unconditional model): the
  /// buffer (re-initialised share `reinit`) or noise, per model.sample_from.
  torch::Tensor chain_starts(const torch::Tensor& labels, double reinit, IgebmStart from) const;

  // Sampler: sample_steps steps from chain_starts(…, 0); the labels of a
  // conditional energy drawn uniformly.
  torch::Tensor sample(int64_t n) override;
  /// One sample per label (conditional only).
  torch::Tensor sample_given(const torch::Tensor& labels);
  /// −E(x, y) for every y, [N, classes] (conditional only).
  torch::Tensor class_logits(const torch::Tensor& x);
  // Completer: the free pixels start as uniform noise and follow Langevin
  // on E (the marginal for a conditional model) with the observed ones held.
  torch::Tensor complete(const torch::Tensor& x, const torch::Tensor& observed) override;
  bool completion_is_exact(const torch::Tensor&) const override { return false; }
  std::string completion_note(const torch::Tensor&) const override;
  // Restorer: sample_steps Langevin steps on E (the marginal for a
  // conditional energy) from the corrupted image, clamped to [0, 1] first
  // (the authors' denoising).
  torch::Tensor restore(const torch::Tensor& x) override;

  /// Per-class gain and bias of convolution `layer` applied to h (identity
  /// when unconditional).
  torch::Tensor condition(const torch::Tensor& h, size_t layer, const torch::Tensor& labels) const;
  torch::Tensor unit(const torch::Tensor& h) const;
  /// Convolution `i` of `convs` (spectrally normalised or plain).
  torch::Tensor conv(size_t i, const torch::Tensor& x);
  torch::Tensor linear(size_t i, const torch::Tensor& x);

  IgebmOptions options;
  torch::nn::ModuleList convs, linears;
  std::vector<torch::Tensor> gains, biases;  // per conditioned convolution, [classes, F]
  ReplayBuffer replay{nullptr};
};
TORCH_MODULE(Igebm);

/// The class-conditional IGEBM E(x, y) (model `cigebm`): an Igebm with
/// classes > 0 as `net`, seen through the class-conditional interfaces,
/// so that class-conditional sampling, sample_accuracy and the accuracy
/// metric (argmin_y E(x, y)) apply.
struct ConditionalIgebmImpl : torch::nn::Cloneable<ConditionalIgebmImpl>, Sampler, Energy, Completer, Restorer,
                              ClassConditional, Classifier {
  explicit ConditionalIgebmImpl(IgebmOptions options = {});
  void reset() override;
  torch::Tensor sample(int64_t n) override { return net->sample(n); }
  torch::Tensor energy(const torch::Tensor& x) override { return net->energy(x); }
  torch::Tensor complete(const torch::Tensor& x, const torch::Tensor& observed) override {
    return net->complete(x, observed);
  }
  bool completion_is_exact(const torch::Tensor&) const override { return false; }
  std::string completion_note(const torch::Tensor& observed) const override { return net->completion_note(observed); }
  torch::Tensor restore(const torch::Tensor& x) override { return net->restore(x); }
  int64_t classes() const override { return options.classes(); }
  torch::Tensor sample_given(const torch::Tensor& labels) override { return net->sample_given(labels); }
  torch::Tensor class_logits(const torch::Tensor& x) override { return net->class_logits(x); }

  IgebmOptions options;
  Igebm net{nullptr};
};
TORCH_MODULE(ConditionalIgebm);

/// The IGEBM inside `model` (an igebm or cigebm), or nullptr.
IgebmImpl* igebm_core(const ModulePtr& model);

/// Registry entries: model.arch, filters, unit, spectral_norm, step_size,
/// noise, grad_clip, sample_steps, sample_from; objective.buffer_size.
ModelInfo igebm_model_info();
ModelInfo cigebm_model_info();

}  // namespace genzoo
