#pragma once
// Spectral normalisation (Miyato et al. 2018): a layer whose weight W is
// used as W / sigma(W), sigma(W) the largest singular value of W reshaped
// to [out, in * kh * kw], so the layer is 1-Lipschitz (in the l2 norm).
// sigma is estimated by power iteration on two persistent vectors,
//   v <- W^T u / |W^T u|,   u <- W v / |W v|,   sigma = u^T W v,
// kept as buffers (so a checkpoint holds the estimate and a resumed run
// continues it exactly). forward() only reads u and v: the iteration runs
// when the owner calls power_iteration() (once per training step, after the
// optimizer's update), so every forward pass of a step divides by the same
// sigma, in training and in eval mode alike. The gradient flows through W
// in both the numerator and sigma = u^T W v with u, v held fixed, which at
// convergence is the exact gradient of W / sigma_max(W) (d sigma / dW = u v^T).
// Used by GAN discriminators (model.d_spectral_norm); meant for the
// energy-based models' networks too. Followed by BatchNorm (the dcgan D),
// the network as a whole is no longer 1-Lipschitz.
#include <torch/torch.h>

namespace genzoo {

/// Power iterations when a layer is built (or its weights are redrawn), so
/// sigma is already close when training starts: random u, v give an
/// estimate far below sigma_max.
constexpr int64_t kSpectralWarmup = 20;

/// The shared estimate: u [out], v [in * ...], registered as buffers "u" and
/// "v" of `owner`.
struct SpectralEstimate {
  /// Registers u, v (random unit vectors from torch's generator) and runs
  /// `warmup` power iterations on `weight`.
  void init(torch::nn::Module& owner, const torch::Tensor& weight, int64_t warmup);
  /// `n` power iterations on `weight` (no gradient).
  void iterate(const torch::Tensor& weight, int64_t n);
  /// u^T W v, differentiable in W.
  torch::Tensor sigma(const torch::Tensor& weight) const;

  torch::Tensor u, v;
};

struct SpectralLinearImpl : torch::nn::Cloneable<SpectralLinearImpl> {
  explicit SpectralLinearImpl(torch::nn::LinearOptions options);
  SpectralLinearImpl(int64_t in, int64_t out) : SpectralLinearImpl(torch::nn::LinearOptions(in, out)) {}
  void reset() override;
  /// x W'^T + b with W' = W / sigma.
  torch::Tensor forward(const torch::Tensor& x);
  void power_iteration(int64_t n = 1) { estimate.iterate(linear->weight, n); }
  /// The current estimate of sigma(W).
  double sigma() const { return estimate.sigma(linear->weight).item<double>(); }

  torch::nn::LinearOptions options;
  torch::nn::Linear linear{nullptr};  // holds W and b, LibTorch's initialisation
  SpectralEstimate estimate;
};
TORCH_MODULE(SpectralLinear);

struct SpectralConv2dImpl : torch::nn::Cloneable<SpectralConv2dImpl> {
  explicit SpectralConv2dImpl(torch::nn::Conv2dOptions options);
  void reset() override;
  /// conv2d(x, W / sigma, b) with the options' stride, padding, dilation and
  /// groups (zero padding only).
  torch::Tensor forward(const torch::Tensor& x);
  void power_iteration(int64_t n = 1) { estimate.iterate(conv->weight, n); }
  double sigma() const { return estimate.sigma(conv->weight).item<double>(); }

  torch::nn::Conv2dOptions options;
  torch::nn::Conv2d conv{nullptr};
  SpectralEstimate estimate;
};
TORCH_MODULE(SpectralConv2d);

/// One power iteration in every spectrally normalised layer of `module`
/// (itself included); returns how many layers there were.
int64_t spectral_power_iteration(torch::nn::Module& module, int64_t n = 1);

}  // namespace genzoo
