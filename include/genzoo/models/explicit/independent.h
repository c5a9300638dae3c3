#pragma once
// Fully factorised Bernoulli over binary pixels: every pixel has its own
// probability sigmoid(l_i), independent of all others. The baseline every
// autoregressive model must beat:
//   log p(x) = sum_i [ x_i log sigmoid(l_i) + (1 - x_i) log sigmoid(-l_i) ]
#include <torch/torch.h>

#include <vector>

#include "genzoo/models/model.h"

namespace genzoo {

/// Initial logits: zero (p = 1/2 everywhere) or the add-one smoothed
/// training marginals (already the closed-form optimum).
enum class IndependentInit { Zero, Marginals };
/// "zero", "marginals".
const EnumNames<IndependentInit>& independent_init_names();

struct IndependentOptions {
  /// Shape of one image {C, H, W}; the model has C*H*W logits.
  TORCH_ARG(std::vector<int64_t>, shape) = std::vector<int64_t>{1, 28, 28};
  /// Initial logits (config: model.init); marginals needs training data.
  TORCH_ARG(IndependentInit, init) = IndependentInit::Zero;
};

struct IndependentImpl : torch::nn::Cloneable<IndependentImpl>, Sampler, Density, Completer {
  explicit IndependentImpl(IndependentOptions options = {});
  void reset() override;

  /// Sets the logits to the add-one smoothed marginals of `data`,
  /// {0,1} float [N, C, H, W]: p_i = (sum_n x_ni + 1) / (N + 2).
  void init_from_marginals(const torch::Tensor& data);

  /// x: {0,1} float [N, C, H, W] -> log p(x) in nats, [N].
  torch::Tensor log_prob(const torch::Tensor& x) override;
  /// n independent draws, {0,1} float [n, C, H, W].
  torch::Tensor sample(int64_t n) override;
  /// Pixels are independent: missing ones are drawn from their marginals,
  /// which is exactly p(x_missing | x_observed) for any mask.
  torch::Tensor complete(const torch::Tensor& x, const torch::Tensor& observed) override;
  bool completion_is_exact(const torch::Tensor&) const override { return true; }

  IndependentOptions options;
  torch::Tensor logits;  // [C*H*W]
};
TORCH_MODULE(Independent);

/// Registry entry (reads "model.init").
ModelInfo independent_model_info();

}  // namespace genzoo
