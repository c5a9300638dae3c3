#pragma once
// Fully visible sigmoid belief network (FVSBN; Frey 1998, the baseline in
// Larochelle & Murray 2011): one logistic regression per pixel on all the
// pixels before it in raster order,
//   p(x_i = 1 | x_<i) = sigmoid(b_i + sum_{j<i} W_ij x_j),
// W strictly lower triangular. D(D-1)/2 + D free parameters; log p(x) is one
// masked matrix product, O(D^2) per image.
#include <torch/torch.h>

#include <vector>

#include "genzoo/models/model.h"

namespace genzoo {

struct FvsbnOptions {
  /// Shape of one image {C, H, W}.
  TORCH_ARG(std::vector<int64_t>, shape) = std::vector<int64_t>{1, 28, 28};
  /// Start the output biases at the logits of the training marginals (the
  /// factory's model.init_marginals; needs training data).
  TORCH_ARG(bool, init_marginals) = true;
};

struct FvsbnImpl : torch::nn::Cloneable<FvsbnImpl>, Sampler, Density, Completer, Autoregressive {
  explicit FvsbnImpl(FvsbnOptions options = {});
  void reset() override;

  /// l_i = b_i + sum_{j<i} W_ij x_j for every pixel: x [N, C, H, W] -> [N, D].
  torch::Tensor conditional_logits(const torch::Tensor& x);
  /// log p(x) = sum_i log p(x_i | x_<i), [N].
  torch::Tensor log_prob(const torch::Tensor& x) override;
  /// Ancestral sampling, pixel by pixel in raster order: {0,1} [n, C, H, W].
  torch::Tensor sample(int64_t n) override;
  torch::Tensor complete(const torch::Tensor& x, const torch::Tensor& observed) override;
  bool completion_is_exact(const torch::Tensor& observed) const override;
  /// One ordering, raster order: conditional_logits and rank d.
  torch::Tensor conditionals(const torch::Tensor& x, int64_t ordering) override;
  torch::Tensor generation_rank(int64_t ordering) const override;

  int64_t dims() const { return bias.size(0); }

  FvsbnOptions options;
  torch::Tensor weight;  // [D, D]; only the strictly lower triangle is used
  torch::Tensor bias;    // [D]
};
TORCH_MODULE(Fvsbn);

/// Registry entry (reads model.init_marginals).
ModelInfo fvsbn_model_info();

}  // namespace genzoo
