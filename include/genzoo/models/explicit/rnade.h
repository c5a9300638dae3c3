#pragma once
// RNADE (Uria, Murray & Larochelle 2013): NADE for real-valued pixels, each
// conditional a mixture of K Gaussians whose parameters come from NADE's
// shared hidden layer,
//   a_1 = c,   a_{i+1} = a_i + W_{:,i} x_i                          [H]
//   h_i = σ(ρ_i a_i)
//   p(x_i | x_<i) = Σ_k π_ik N(x_i; μ_ik, s_ik²),
//   π_i = softmax(V^π_i h_i + b^π_i),  μ_i = V^μ_i h_i + b^μ_i,  s_i = exp(V^s_i h_i + b^s_i)
// (V^· [D, K, H], b^· [D, K], ρ [D] the paper's per-pixel scaling). A density
// over continuous pixels: on grey values dequantised to [0, 1)
// (data.dequantize), bits/dim are (NLL/D + ln 256)/ln 2. The a_i of every
// pixel at once come from an exclusive cumulative sum (NADE's "naive" path;
// the fused NADE kernel computes Bernoulli logits only and is not shared).
// Samples are drawn pixel by pixel and clamped to [0, 1], the data range.
#include <torch/torch.h>

#include <vector>

#include "genzoo/models/model.h"

namespace genzoo {

struct RnadeOptions {
  /// Shape of one image {C, H, W}.
  TORCH_ARG(std::vector<int64_t>, shape) = std::vector<int64_t>{1, 28, 28};
  /// Hidden units H.
  TORCH_ARG(int64_t, hidden) = 100;
  /// Gaussian components K per conditional.
  TORCH_ARG(int64_t, components) = 10;
};

/// The mixture parameters of every conditional, [N, D, K] each.
struct RnadeMixture {
  torch::Tensor log_weights, means, log_scales;
};

struct RnadeImpl : torch::nn::Cloneable<RnadeImpl>, Sampler, Density, Completer, Autoregressive {
  explicit RnadeImpl(RnadeOptions options = {});
  void reset() override;

  /// Every conditional's mixture for x [N, C, H, W] in [0, 1].
  RnadeMixture mixtures(const torch::Tensor& x);
  /// log p(x) in nats of density, [N].
  torch::Tensor log_prob(const torch::Tensor& x) override;
  bool continuous() const override { return true; }
  torch::Tensor sample(int64_t n) override;
  torch::Tensor complete(const torch::Tensor& x, const torch::Tensor& observed) override;
  bool completion_is_exact(const torch::Tensor& observed) const override;
  /// [N, D, 3K]: the log weights, means and log scales side by side.
  torch::Tensor conditionals(const torch::Tensor& x, int64_t ordering) override;
  torch::Tensor generation_rank(int64_t ordering) const override;

  int64_t dims() const { return rho.size(0); }

  RnadeOptions options;
  torch::Tensor w, c, rho;                     // [H, D], [H], [D]
  torch::Tensor v_weight, v_mean, v_scale;     // [D, K, H] each
  torch::Tensor b_weight, b_mean, b_scale;     // [D, K] each
};
TORCH_MODULE(Rnade);

/// log Σ_k exp(log_weights_k) N(x; μ_k, exp(log_scales_k)²) for mixtures
/// [..., K] and x [...]: [...].
torch::Tensor gaussian_mixture_log_density(const torch::Tensor& log_weights, const torch::Tensor& means,
                                           const torch::Tensor& log_scales, const torch::Tensor& x);

/// Registry entry "rnade" (reads model.hidden, model.components); grey
/// pixels in [0, 1], dequantised for bits/dim.
ModelInfo rnade_model_info();

}  // namespace genzoo
