#pragma once
// Variational autoencoder (Kingma & Welling 2014) and its k-sample
// importance-weighted bound (IWAE, Burda et al. 2016).
//   encoder   q(z|x) = N(mu(x), diag sigma^2(x)),  [mu, log sigma^2] = enc(x)
//   prior     p(z)   = N(0, I)
//   decoder   p(x|z) = prod_i p(x_i | l_i(z)),  l = dec(z): Bernoulli for binary
//             pixels, Gaussian for grey, discretised logistic for 256 levels
//             (models/latent/likelihood.h)
//   ELBO      L(x)   = E_q[log p(x|z)] - KL(q(z|x) || p(z))                 (eq. 3)
//             KL     = 1/2 sum_j (mu_j^2 + sigma_j^2 - 1 - log sigma_j^2)   (appendix B)
//   IWAE      L_k(x) = E[log 1/k sum_i p(x, z_i) / q(z_i|x)],  z_i ~ q(z|x)  (Burda, eq. 8)
// with z = mu + sigma * eps, eps ~ N(0, I) (the reparameterisation trick), so
// every bound is differentiable in the encoder's parameters. L_1 = L <= L_k
// <= L_{k+1} <= log p(x). log p(x) itself is estimated by importance
// sampling with K = eval_samples (5000, Burda et al.'s protocol): a lower
// bound in expectation (Density::bound() is LowerBound).
// The MLPs follow Burda et al.'s one-stochastic-layer model: two
// deterministic layers of 200 tanh units each side, 50 latent units.
#include <torch/torch.h>

#include <utility>
#include <vector>

#include "genzoo/models/latent/bound.h"
#include "genzoo/models/latent/networks.h"
#include "genzoo/models/model.h"

namespace genzoo {

struct VaeOptions {
  /// The encoder (to [mu, log sigma^2]) and decoder (models/latent/networks.h).
  TORCH_ARG(EncoderDecoderOptions, net) = EncoderDecoderOptions{};
  /// Samples of the training bound: 1 = the VAE's ELBO, k > 1 = IWAE's L_k.
  TORCH_ARG(int64_t, k) = 1;
  /// Importance samples K of the log p(x) estimate (Density::log_prob).
  TORCH_ARG(int64_t, eval_samples) = 5000;
};

struct VaeImpl : torch::nn::Cloneable<VaeImpl>, Sampler, Density, Latent, VariationalBound {
  explicit VaeImpl(VaeOptions options = {});
  void reset() override;

  /// q(z|x): (mu, log sigma^2), each [N, Z], for x {0,1} [N, C, H, W].
  std::pair<torch::Tensor, torch::Tensor> posterior(const torch::Tensor& x);
  /// Decoder outputs l(z) of p(x|z): z [..., Z] -> [..., P * D] (P
  /// parameters per pixel, likelihood_outputs).
  torch::Tensor decoder_logits(const torch::Tensor& z) { return net->decoder_output(z); }
  /// The training bound with `k` samples (L_1 with analytic KL when k = 1;
  /// L_k otherwise, whose kl term is still the analytic KL, for logging),
  /// differentiable in every parameter.
  /// (The labels are ignored: the model is unconditional.)
  BoundTerms labelled_bound_terms(const torch::Tensor& x, const torch::Tensor& labels, int64_t k) override;
  int64_t training_samples() const override { return options.k(); }

  /// Importance-sampled log p(x) with K = eval_samples, [N]; no gradients.
  /// Its expectation is a lower bound on log p(x); for a Gaussian decoder,
  /// on the log density.
  torch::Tensor log_prob(const torch::Tensor& x) override;
  Bound bound() const override { return Bound::LowerBound; }
  bool continuous() const override { return net->options.likelihood() == PixelLikelihood::Gaussian; }
  /// z ~ N(0, I), x ~ p(x|z): [n, C, H, W] in the data's format.
  torch::Tensor sample(int64_t n) override;
  /// The posterior mean mu(x), [N, Z].
  torch::Tensor encode(const torch::Tensor& x) override;
  /// The decoder's mean of x given z, in the data's range, [N, C, H, W].
  torch::Tensor decode(const torch::Tensor& z) override;

  int64_t dims() const;

  VaeOptions options;
  EncoderDecoder net{nullptr};
};
TORCH_MODULE(Vae);

/// Registry entry: the shared keys of read_encoder_decoder_options, and
/// model.k, model.eval_samples; a Bernoulli decoder's output biases start
/// at the training marginals.
ModelInfo vae_model_info();

}  // namespace genzoo
