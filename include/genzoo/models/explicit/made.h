#pragma once
// MADE (Germain et al. 2015): an autoencoder whose weight matrices are masked
// so that output i sees only the inputs before i in an ordering. Every unit k
// of hidden layer l gets a degree m^l(k) in [min m^{l-1}, D-1]; the inputs
// have degrees m^0(d) = the position of pixel d in the ordering (1..D), and
//   hidden mask  M^l[k, k'] = 1[m^l(k) >= m^{l-1}(k')]            (eq. 12)
//   output mask  M^V[d, k]  = 1[m^0(d) >  m^L(k)]                 (eq. 13)
//   direct mask  M^A[d, d'] = 1[m^0(d) >  m^0(d')]   (option `direct`)
// A run holds N such masks (connectivity, and with ordering = "random" also
// orderings; Section 4). Training uses one mask per mini-batch, cycling
// through the N; evaluation is the mixture
//   log p(x) = log (1/N sum_m p_m(x))   via log-sum-exp,
// each p_m an exact, normalised autoregressive model.
#include <torch/torch.h>

#include <string>
#include <vector>

#include "genzoo/models/model.h"

namespace genzoo {

/// natural: raster order for every mask; random: one ordering per mask
/// (order-agnostic training).
enum class MadeOrdering { Natural, Random };
/// "natural", "random".
const EnumNames<MadeOrdering>& made_ordering_names();

struct MadeOptions {
  /// Shape of one image {C, H, W}.
  TORCH_ARG(std::vector<int64_t>, shape) = std::vector<int64_t>{1, 28, 28};
  /// Units per hidden layer.
  TORCH_ARG(int64_t, hidden) = 500;
  /// Hidden layers: 1 or 2.
  TORCH_ARG(int64_t, layers) = 1;
  /// Number of masks N (1 = a single fixed connectivity).
  TORCH_ARG(int64_t, masks) = 1;
  /// Config: model.ordering.
  TORCH_ARG(MadeOrdering, ordering) = MadeOrdering::Natural;
  /// Seed of the degree draws.
  TORCH_ARG(uint64_t, mask_seed) = 0;
  /// Direct input-to-output connections, masked to earlier pixels in the
  /// ordering, added to the output logits (the MADE authors' code,
  /// direct_input_connect = "Output"): every conditional then also has
  /// FVSBN's linear path, which a hidden layer of a few hundred units cannot
  /// give every pixel (output i sees pixel i-1 only through units of degree
  /// exactly i-1).
  TORCH_ARG(bool, direct) = false;
};

struct MadeImpl : torch::nn::Cloneable<MadeImpl>, Sampler, Density, Completer, Autoregressive {
  explicit MadeImpl(MadeOptions options = {});
  void reset() override;

  /// The weights of mask m with their masks applied: per hidden layer
  /// W^l ⊙ M^l, the output V ⊙ M^V [D, H] and the direct A ⊙ M^A [D, D]
  /// (undefined without direct connections); differentiable.
  struct MaskedWeights {
    std::vector<torch::Tensor> hidden;
    torch::Tensor output, direct;
  };
  MaskedWeights masked_weights(int64_t mask);
  /// Logits of every conditional under mask m: x [N, C, H, W] -> [N, D].
  torch::Tensor conditional_logits(const torch::Tensor& x, int64_t mask);
  /// log p_m(x) under one mask, [N].
  torch::Tensor log_prob_mask(const torch::Tensor& x, int64_t mask);
  /// Training mode: log p_m(x) with the next mask in the cycle (advances it).
  /// Evaluation mode: the mixture over all N masks.
  torch::Tensor log_prob(const torch::Tensor& x) override;
  /// Mixture sampling: a mask per sample, uniformly; then pixel by pixel in
  /// that mask's ordering. {0,1} [n, C, H, W].
  torch::Tensor sample(int64_t n) override;
  /// Picks each row's mask from the posterior p(m | x_obs) when the observed
  /// pixels come first in every ordering (then the completion is an exact
  /// draw from the mixture's conditional), uniformly otherwise; then samples
  /// the missing pixels in that mask's order.
  torch::Tensor complete(const torch::Tensor& x, const torch::Tensor& observed) override;
  bool completion_is_exact(const torch::Tensor& observed) const override;
  /// One ordering per mask: conditional_logits(x, mask) and orders[mask].
  int64_t orderings() const override { return num_masks(); }
  torch::Tensor conditionals(const torch::Tensor& x, int64_t ordering) override;
  torch::Tensor generation_rank(int64_t ordering) const override;

  int64_t dims() const { return orders.size(1); }
  int64_t num_masks() const { return orders.size(0); }
  /// order[k] = the pixel generated k-th under mask m, [D].
  torch::Tensor generation_order(int64_t mask) const;

  MadeOptions options;
  std::vector<torch::nn::Linear> hidden_layers;
  torch::nn::Linear output{nullptr};
  torch::Tensor direct;                 // [D, D] when options.direct(), else undefined
  // Integer buffers: LibTorch's Module::to(dtype) converts every buffer, so
  // keep a MADE in float32/float64 by constructing it so, never by to().
  torch::Tensor orders;                 // [N, D] int64: m^0(d), the position of pixel d (1..D)
  std::vector<torch::Tensor> degrees;   // per hidden layer, [N, H] int64
  torch::Tensor next_mask;              // [] int64: the training cycle's position
};
TORCH_MODULE(Made);

/// Registry entry (reads model.hidden, model.layers, model.masks,
/// model.ordering, model.mask_seed, model.direct); output biases start at
/// the training marginals.
ModelInfo made_model_info();

}  // namespace genzoo
