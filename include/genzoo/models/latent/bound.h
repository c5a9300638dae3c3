#pragma once
// The variational bound of a model with a Gaussian posterior and a standard
// normal prior, shared by the VAE and the conditional VAE:
//   q(z|x)  = N(mu, diag sigma^2),  p(z) = N(0, I)
//   KL      = 1/2 sum_j (mu_j^2 + sigma_j^2 - 1 - log sigma_j^2)    (Kingma & Welling 2014, appendix B)
//   L_1(x)  = log p(x|z) - KL,  z = mu + sigma * eps, one eps ~ N(0, I)  (their estimator B)
//   L_k(x)  = log 1/k sum_i p(x|z_i) p(z_i) / q(z_i|x)                   (Burda et al. 2016, eq. 8)
//   log p(x) ~ the same with K = eval_samples importance samples (sampling/importance.h)
// The model supplies mu, log sigma^2 and log p(x|z) as a function of z; for
// a conditional model everything is given its label y.
#include <torch/torch.h>

#include <functional>

namespace genzoo {

/// The terms of the bound for every row of a batch, in nats.
struct BoundTerms {
  torch::Tensor reconstruction;  // [N] E_q[log p(x|z)], one sample of z (k = 1); the mean over the k (k > 1)
  torch::Tensor kl;              // [N] KL(q(z|x) || p(z)), analytic
  torch::Tensor bound;           // [N] L_1 = reconstruction - kl, or L_k for k > 1
};

/// A model trained on a variational bound (the ELBO objective drives it
/// through this, whatever the encoder and decoder are).
struct VariationalBound {
  virtual ~VariationalBound() = default;
  /// The bound's terms for every row of x [N, ...] with `k` samples of z.
  /// A class-conditional model (needs_labels()) bounds log p(x | y) for
  /// `labels` int64 [N]; the others ignore them (they may be undefined).
  virtual BoundTerms labelled_bound_terms(const torch::Tensor& x, const torch::Tensor& labels, int64_t k) = 0;
  /// The bound of an unconditional model.
  BoundTerms bound_terms(const torch::Tensor& x, int64_t k) { return labelled_bound_terms(x, {}, k); }
  virtual bool needs_labels() const { return false; }
  /// The k the model trains with (model.k).
  virtual int64_t training_samples() const = 0;
};

/// log p(x|z) for the rows of a batch: z [..., N, Z] -> [..., N].
using LatentLogLikelihood = std::function<torch::Tensor(const torch::Tensor& z)>;

/// log N(z; 0, I) summed over the last dimension: z [..., Z] -> [...].
torch::Tensor standard_normal_log_density(const torch::Tensor& z);

/// KL(N(mu, diag exp(logvar)) || N(0, I)) per row: [N, Z] -> [N].
torch::Tensor gaussian_kl(const torch::Tensor& mu, const torch::Tensor& logvar);

/// L_1 (k = 1, with the analytic KL) or L_k (k > 1) for the posterior (mu,
/// logvar) [N, Z], reparameterised so that it is differentiable in mu,
/// logvar and whatever log_likelihood depends on.
BoundTerms gaussian_latent_bound(const torch::Tensor& mu, const torch::Tensor& logvar, int64_t k,
                                 const LatentLogLikelihood& log_likelihood);

/// The posterior of a batch of rows: x [n, ...] -> (mu, logvar) [n, Z].
using GaussianPosterior = std::function<std::pair<torch::Tensor, torch::Tensor>(const torch::Tensor& x)>;
/// log p(x|z) of a batch of rows: x [n, ...], z [k, n, Z] -> [k, n].
using BatchLogLikelihood = std::function<torch::Tensor(const torch::Tensor& x, const torch::Tensor& z)>;

/// Importance-sampled log p(x) [N] (double) with K samples from the
/// posterior, `chunk` samples at a time; no gradients. A lower bound in
/// expectation.
torch::Tensor gaussian_latent_log_prob(const torch::Tensor& x, int64_t samples, int64_t chunk,
                                       const GaussianPosterior& posterior, const BatchLogLikelihood& log_likelihood);

/// Importance samples per chunk so that a chunk's decoder outputs hold about
/// 2e7 values for `rows` images of `dims` pixels (a conv decoder's inner
/// activations are about 8 times its output: `conv`).
int64_t importance_chunk(int64_t rows, int64_t dims, bool conv);

}  // namespace genzoo
