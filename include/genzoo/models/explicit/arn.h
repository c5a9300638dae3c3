#pragma once
// The Markov AR(n) model over binary pixels in raster order: each pixel
// depends on the n pixels before it only, through a table of one logit per
// pixel and context,
//   p(x_i = 1 | x_<i) = sigmoid(T[i, k_i]),   k_i = sum_{j=1..n} x_{i-j} 2^(j-1)
// (pixels before the first read as 0): D 2^n parameters, between the
// independent model (n = 0) and FVSBN (every earlier pixel, linearly) in the
// theory's ordering. Its maximum-likelihood table is a count per pixel and
// context; model.init = counts starts from the smoothed counts
// (c1 + a) / (c + 2a), a = model.smoothing, which training by gradient
// then leaves at or near their optimum.
#include <torch/torch.h>

#include <vector>

#include "genzoo/models/model.h"

namespace genzoo {

/// zero: every logit 0 (p = 1/2); counts: the smoothed training counts.
enum class ArnInit { Zero, Counts };
/// "zero", "counts".
const EnumNames<ArnInit>& arn_init_names();

struct ArnOptions {
  /// Shape of one image {C, H, W} (pixels in raster order over C, H, W).
  TORCH_ARG(std::vector<int64_t>, shape) = std::vector<int64_t>{1, 28, 28};
  /// The context: how many preceding pixels (0..20).
  TORCH_ARG(int64_t, order) = 4;
};

struct ArnImpl : torch::nn::Cloneable<ArnImpl>, Sampler, Density, Completer, Autoregressive {
  explicit ArnImpl(ArnOptions options = {});
  void reset() override;

  /// The context index k_i of every pixel, x {0,1} [N, D] -> int64 [N, D].
  torch::Tensor contexts(const torch::Tensor& flat) const;
  /// Sets the table to (c1 + a) / (c + 2a) from binary data [N, C, H, W]
  /// (c: images with that context at that pixel, c1: those with the pixel on).
  void init_from_counts(const torch::Tensor& data, double smoothing);
  torch::Tensor conditional_logits(const torch::Tensor& x);
  torch::Tensor log_prob(const torch::Tensor& x) override;
  torch::Tensor sample(int64_t n) override;
  torch::Tensor complete(const torch::Tensor& x, const torch::Tensor& observed) override;
  bool completion_is_exact(const torch::Tensor& observed) const override;
  /// The logits as a function differentiable in x: the multilinear
  /// extension Σ_k T[i, k] Π_j (x_{i-j} if bit j-1 of k is set, else
  /// 1 − x_{i-j}), equal to T[i, k_i] on binary images, so that ∂l_i/∂x_j
  /// shows which pixels a conditional reads. O(N D 2^n): for analysis and
  /// tests, not training.
  torch::Tensor conditionals(const torch::Tensor& x, int64_t ordering) override;
  torch::Tensor generation_rank(int64_t ordering) const override;

  int64_t dims() const { return table.size(0); }

  ArnOptions options;
  torch::Tensor table;  // [D, 2^n] logits
};
TORCH_MODULE(Arn);

/// Registry entry "arn" (reads model.order, model.init, model.smoothing).
ModelInfo arn_model_info();

}  // namespace genzoo
