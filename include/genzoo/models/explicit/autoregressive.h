#pragma once
// Pieces shared by the autoregressive models over binary pixels (FVSBN, NADE,
// MADE). Each writes log p(x) by the chain rule,
//   log p(x) = sum_i log p(x_i | x_<i),   p(x_i = 1 | x_<i) = sigmoid(l_i(x_<i)),
// and computes it from the logits l_i, never from a clipped probability.
#include <torch/torch.h>

#include <vector>

namespace genzoo {

/// sum_i [x_i log sigmoid(l_i) + (1 - x_i) log sigmoid(-l_i)] over the last
/// dimension: logits, x [N, D] -> [N].
torch::Tensor bernoulli_log_prob(const torch::Tensor& logits, const torch::Tensor& x);

/// Logits of the training marginals, logit((sum_n x_ni + 1) / (N + 2)), of
/// data [N, ...] with D values per row (binary, or grey probabilities for
/// dynamic binarization): [D] float. Output biases start here, so a model
/// starts at the independent model's optimum.
torch::Tensor marginal_logits(const torch::Tensor& data, int64_t dims);

/// Product of a shape {C, H, W}.
int64_t shape_numel(const std::vector<int64_t>& shape);

/// x [N, C, H, W] -> [N, D] after checking it holds D values per row;
/// `who` names the model in the error.
torch::Tensor flatten_pixels(const torch::Tensor& x, int64_t dims, const char* who);

/// The observed-pixel mask broadcast to x's rows: bool [N, D]. `observed` may
/// be [N, C, H, W] or [1, C, H, W] (one mask for every row).
torch::Tensor flatten_observed(const torch::Tensor& observed, int64_t rows, int64_t dims, const char* who);

/// True when in every row every observed pixel comes before every missing one
/// in `order` (order[k] = the pixel generated k-th): observed [N, D] bool.
bool observed_first(const torch::Tensor& observed, const torch::Tensor& order);

}  // namespace genzoo
