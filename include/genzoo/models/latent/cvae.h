#pragma once
// Conditional VAE: a VAE of p(x | y) for a class label y, the label fed as a
// one-hot vector to the encoder beside x and to the decoder beside z (the
// generative model of Kingma, Rezende, Mohamed & Welling 2014, "M2", with the
// label always observed; Sohn, Lee & Yan 2015 with a prior that does not
// depend on the input):
//   encoder   q(z|x, y) = N(mu(x, y), diag sigma^2(x, y))
//   prior     p(z)      = N(0, I),  independent of y
//   decoder   p(x|z, y) = prod_i p(x_i | l_i(z, y))   (models/latent/likelihood.h)
//   bound     log p(x|y) >= E_q[log p(x|z, y)] - KL(q(z|x, y) || p(z))   (L_k for k > 1)
//   p(x)      = sum_y pi_y p(x|y),  pi the training split's class frequencies
// log p(x|y) is estimated by importance sampling with K = eval_samples per
// class and log p(x) = logsumexp_y (log pi_y + log p(x|y)): the log of a sum
// of unbiased estimates, so a lower bound in expectation. Samples draw y from
// pi (Sampler) or for the labels given (ClassConditional: one row per class).
#include <torch/torch.h>

#include <utility>

#include "genzoo/models/latent/bound.h"
#include "genzoo/models/latent/networks.h"
#include "genzoo/models/model.h"

namespace genzoo {

struct CvaeOptions {
  /// The encoder and decoder; their `conditions` is set to `classes`.
  TORCH_ARG(EncoderDecoderOptions, net) = EncoderDecoderOptions{};
  /// Class labels 0..classes-1.
  TORCH_ARG(int64_t, classes) = 10;
  /// Samples of the training bound: 1 = ELBO, k > 1 = L_k.
  TORCH_ARG(int64_t, k) = 1;
  /// Importance samples per class of the log p(x) estimate: 10 classes x 500
  /// decoder passes, the VAE's 5000 per image.
  TORCH_ARG(int64_t, eval_samples) = 500;
};

struct CvaeImpl : torch::nn::Cloneable<CvaeImpl>, Sampler, Density, ClassConditional, VariationalBound {
  explicit CvaeImpl(CvaeOptions options = {});
  void reset() override;

  /// pi from training labels int64 [N]: log class frequencies (add-one
  /// smoothed, so no class has probability 0).
  void set_class_prior(const torch::Tensor& labels);

  /// q(z|x, y): (mu, log sigma^2) [N, Z] for x [N, C, H, W], labels int64 [N].
  std::pair<torch::Tensor, torch::Tensor> posterior(const torch::Tensor& x, const torch::Tensor& labels);
  /// log p(x|z, y): x [N, ...], z [..., N, Z], labels [N] -> [..., N].
  torch::Tensor log_likelihood(const torch::Tensor& x, const torch::Tensor& z, const torch::Tensor& labels);
  /// The same for one-hot rows [N, classes] (already checked).
  torch::Tensor log_likelihood_given(const torch::Tensor& x, const torch::Tensor& z, const torch::Tensor& cond_rows);

  BoundTerms labelled_bound_terms(const torch::Tensor& x, const torch::Tensor& labels, int64_t k) override;
  bool needs_labels() const override { return true; }
  int64_t training_samples() const override { return options.k(); }

  /// Importance-sampled log p(x | y) with K = eval_samples, [N]; no gradients.
  torch::Tensor conditional_log_prob(const torch::Tensor& x, const torch::Tensor& labels);
  /// log sum_y pi_y p(x|y), each term estimated as above, [N].
  torch::Tensor log_prob(const torch::Tensor& x) override;
  Bound bound() const override { return Bound::LowerBound; }
  bool continuous() const override { return net->options.likelihood() == PixelLikelihood::Gaussian; }

  /// y ~ pi, then z ~ N(0, I), x ~ p(x|z, y): [n, C, H, W].
  torch::Tensor sample(int64_t n) override;
  int64_t classes() const override { return options.classes(); }
  torch::Tensor class_log_prior() const override { return log_prior.to(torch::kFloat64); }
  /// z ~ N(0, I), x ~ p(x|z, y) for each label: [n, C, H, W].
  torch::Tensor sample_given(const torch::Tensor& labels) override;

  /// One-hot rows [N, classes] in the model's dtype, checking the labels.
  torch::Tensor one_hot(const torch::Tensor& labels) const;

  CvaeOptions options;
  EncoderDecoder net{nullptr};
  torch::Tensor log_prior;  // buffer [classes]: log pi
};
TORCH_MODULE(Cvae);

/// Registry entry: the shared keys of read_encoder_decoder_options, and
/// model.k, model.eval_samples (per class); the number of classes and pi
/// come from the data; a Bernoulli decoder's output biases start at the
/// training marginals.
ModelInfo cvae_model_info();

}  // namespace genzoo
