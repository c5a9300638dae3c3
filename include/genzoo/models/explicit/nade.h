#pragma once
// NADE (Larochelle & Murray 2011): the conditionals of a raster-order
// autoregressive model share one hidden layer,
//   h_i = act(c + W_{:,<i} x_<i)                      [H]   (eq. 3)
//   p(x_i = 1 | x_<i) = sigmoid(b_i + V_i . h_i)             (eq. 2)
// and since a_{i+1} = a_i + W_{:,i} x_i, all D conditionals cost O(HD)
// rather than O(HD^2) (Algorithm 1). The default implementation runs that
// recurrence as a fused loop over pixels, forward and backward, with the
// running pre-activations of a block of rows kept in cache; "naive"
// materialises all a_i as an [N, H, D] tensor and lets autograd do the rest
// (for tests and speed comparisons).
#include <torch/torch.h>

#include <string>
#include <vector>

#include "genzoo/models/model.h"

namespace genzoo {

/// The hidden units' nonlinearity: sigmoid as in the paper, or relu.
enum class NadeActivation { Sigmoid, Relu };
/// "sigmoid", "relu".
const EnumNames<NadeActivation>& nade_activation_names();
/// fused: the O(HD) loop with its own backward; naive: the [N, H, D]
/// tensor and autograd (for tests and speed comparisons).
enum class NadeImplementation { Fused, Naive };
/// "fused", "naive".
const EnumNames<NadeImplementation>& nade_implementation_names();

struct NadeOptions {
  /// Shape of one image {C, H, W}.
  TORCH_ARG(std::vector<int64_t>, shape) = std::vector<int64_t>{1, 28, 28};
  /// Hidden units H (the paper: 500).
  TORCH_ARG(int64_t, hidden) = 500;
  /// Config: model.activation.
  TORCH_ARG(NadeActivation, activation) = NadeActivation::Sigmoid;
  /// Config: model.impl.
  TORCH_ARG(NadeImplementation, impl) = NadeImplementation::Fused;
};

struct NadeImpl : torch::nn::Cloneable<NadeImpl>, Sampler, Density, Completer, Autoregressive {
  explicit NadeImpl(NadeOptions options = {});
  void reset() override;

  /// l_i = b_i + V_i . act(c + W_{:,<i} x_<i): x [N, C, H, W] -> [N, D],
  /// differentiable in the parameters and in x.
  torch::Tensor conditional_logits(const torch::Tensor& x);
  /// log p(x) = sum_i log p(x_i | x_<i) from the logits, [N].
  torch::Tensor log_prob(const torch::Tensor& x) override;
  /// Ancestral sampling in raster order by the same recurrence: {0,1} [n, C, H, W].
  torch::Tensor sample(int64_t n) override;
  torch::Tensor complete(const torch::Tensor& x, const torch::Tensor& observed) override;
  bool completion_is_exact(const torch::Tensor& observed) const override;
  /// One ordering, raster order: conditional_logits and rank d.
  torch::Tensor conditionals(const torch::Tensor& x, int64_t ordering) override;
  torch::Tensor generation_rank(int64_t ordering) const override;

  int64_t dims() const { return b.size(0); }

  NadeOptions options;
  torch::Tensor w;  // [H, D] input-to-hidden, column i used after pixel i
  torch::Tensor c;  // [H]
  torch::Tensor v;  // [D, H] hidden-to-output
  torch::Tensor b;  // [D]
};
TORCH_MODULE(Nade);

/// The fused recurrence on its own: logits [N, D] of x [N, D] for W [H, D],
/// c [H], V [D, H], b [D] (float or double). Gradients flow to every input.
torch::Tensor nade_fused_logits(const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& c,
                                const torch::Tensor& v, const torch::Tensor& b, bool relu);

/// How many distinct threads the fused recurrence spreads a batch of `rows`
/// rows over at the current LibTorch thread setting (one row chunk per
/// thread; 1 when built without OpenMP). For tests and diagnostics.
int nade_fused_threads(int64_t rows);
/// Whether nade.cpp was compiled with OpenMP (GCC builds): without it, as
/// in clang's sanitizer and fuzz builds, the row chunks run on one thread.
bool nade_built_with_openmp();

/// Registry entry (reads model.hidden, model.activation, model.impl); the
/// output biases b start at the logits of the training marginals.
ModelInfo nade_model_info();

}  // namespace genzoo
