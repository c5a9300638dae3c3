#pragma once
// Binary pixels with Bernoulli likelihoods, for every family that models
// them (the autoregressive models' conditionals, a VAE's decoder): always
// from logits, never from a clipped probability.
#include <torch/torch.h>

namespace genzoo {

/// sum_i [x_i log sigmoid(l_i) + (1 - x_i) log sigmoid(-l_i)] over the last
/// dimension: logits, x [N, D] -> [N].
torch::Tensor bernoulli_log_prob(const torch::Tensor& logits, const torch::Tensor& x);

/// Logits of the training marginals, logit((sum_n x_ni + 1) / (N + 2)), of
/// data [N, ...] with D values per row (binary, or grey probabilities for
/// dynamic binarization): [D] float. Output biases start here: FVSBN (zero
/// weights) then starts exactly at the independent model's optimum, NADE and
/// MADE near it (their random hidden layers add a small offset).
torch::Tensor marginal_logits(const torch::Tensor& data, int64_t dims);

}  // namespace genzoo
