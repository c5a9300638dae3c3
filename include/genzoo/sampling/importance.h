#pragma once
// Importance-sampled log-likelihood for latent-variable models (Burda et al.
// 2016, the VAE protocol with K = 5000):
//   log p(x) ≈ logsumexp_k [ log p(x, z_k) − log q(z_k | x) ] − log K,   z_k ~ q(z | x).
// Its expectation is a lower bound on log p(x) that tightens as K grows (K = 1
// is the ELBO); it is exact for any K when q is the true posterior.
#include <torch/torch.h>

#include <functional>
#include <utility>

namespace genzoo {

struct ImportanceModel {
  /// Draws k latents per example: x [N, ...] -> (z [k, N, ...], log q(z|x) [k, N]).
  std::function<std::pair<torch::Tensor, torch::Tensor>(const torch::Tensor& x, int64_t k)> propose;
  /// log p(x, z) = log p(x|z) + log p(z): x [N, ...], z [k, N, ...] -> [k, N].
  std::function<torch::Tensor(const torch::Tensor& x, const torch::Tensor& z)> log_joint;
};

/// Estimates log p(x) for x [N, ...] -> double [N], drawing the K samples in
/// chunks of `chunk` so memory stays O(chunk · N · latent), combined by a
/// running log-sum-exp. No gradients.
torch::Tensor importance_log_likelihood(const ImportanceModel& model, const torch::Tensor& x,
                                        int64_t k = 5000, int64_t chunk = 500);

}  // namespace genzoo
