#pragma once
// Generative adversarial nets (Goodfellow et al. 2014): a generator G maps
// noise z ~ p(z) to the data space in one pass and a discriminator D
// estimates the probability that its input came from the data,
//   min_G max_D  E_x[log D(x)] + E_z[log(1 - D(G(z)))],
// trained by train/objectives/adversarial.h (Algorithm 1). The model has no
// density: it is judged by its samples (FID, Parzen windows, mode coverage).
//   gan    MLPs (the paper's MNIST nets; also the 2-D GANs of the mode study)
//   dcgan  the 28 x 28 DCGAN (Radford et al. 2016)
//   cgan   either, with the class label fed to G and D (Mirza & Osindero 2014)
// Networks and their options: models/adversarial/networks.h.
#include <torch/torch.h>

#include "genzoo/models/adversarial/networks.h"
#include "genzoo/models/model.h"

namespace genzoo {

/// What the adversarial objective drives: the two players, separately.
struct Adversarial {
  virtual ~Adversarial() = default;
  /// z ~ p(z), [n, noise_dims], from the global generator.
  virtual torch::Tensor noise(int64_t n) = 0;
  /// G(z, y): [n, C, H, W] (or [n, 2]) in the data space, differentiable;
  /// `labels` int64 [n] for a class-conditional model, undefined otherwise.
  virtual torch::Tensor generate(const torch::Tensor& z, const torch::Tensor& labels) = 0;
  /// D's logits for x [N, ...] (N a multiple of pack()): [N / pack, 1],
  /// D(x) = sigmoid(logit) (the semi-supervised GAN: [N, K] class logits).
  virtual torch::Tensor discriminate(const torch::Tensor& x, const torch::Tensor& labels) = 0;
  /// Samples D judges together (PacGAN); 1 = one at a time.
  virtual int64_t pack() const = 0;
  /// True when generate and discriminate need class labels.
  virtual bool needs_labels() const = 0;
  /// Labels for n generated examples, drawn from the class prior (int64 [n]);
  /// undefined for an unconditional model.
  virtual torch::Tensor draw_labels(int64_t n) = 0;
  virtual torch::nn::Module& generator_module() = 0;
  virtual torch::nn::Module& discriminator_module() = 0;
  /// Called after every update of D: projects its weights back onto their
  /// constraint (model.d_max_norm) and advances the spectral-norm estimates
  /// (model.d_spectral_norm); nothing without either.
  virtual void constrain_discriminator() {}
};

struct GanOptions {
  TORCH_ARG(AdversarialNetOptions, net) = AdversarialNetOptions{};
  /// Class labels 0..classes-1 (cgan); 0 = unconditional.
  TORCH_ARG(int64_t, classes) = 0;
  /// D's logits per input: 1 (real vs generated), K for the semi-supervised
  /// GAN's K classes.
  TORCH_ARG(int64_t, d_outputs) = 1;
};

/// What gan, dcgan and cgan share; GanImpl and CganImpl below differ only
/// in whether they are ClassConditional.
template <typename Self>
struct GanBase : torch::nn::Cloneable<Self>, Sampler, Adversarial {
  explicit GanBase(GanOptions options);
  void reset() override;

  torch::Tensor noise(int64_t n) override;
  torch::Tensor generate(const torch::Tensor& z, const torch::Tensor& labels) override;
  torch::Tensor discriminate(const torch::Tensor& x, const torch::Tensor& labels) override;
  int64_t pack() const override { return options.net().pack(); }
  bool needs_labels() const override { return options.classes() > 0; }
  torch::Tensor draw_labels(int64_t n) override;
  torch::nn::Module& generator_module() override { return *generator; }
  torch::nn::Module& discriminator_module() override { return *discriminator; }
  void constrain_discriminator() override { discriminator->constrain(); }

  /// z ~ p(z) (and y from the class prior), then G(z, y) with G in eval mode
  /// (BatchNorm uses its running statistics, so samples do not depend on
  /// the other samples of the batch): [n, ...], no gradients.
  torch::Tensor sample(int64_t n) override;
  /// G(z, y) for each label, z ~ p(z), G in eval mode.
  torch::Tensor generate_eval(const torch::Tensor& labels, int64_t n);

  /// The class prior from training labels int64 [N]: log frequencies,
  /// add-one smoothed (cgan).
  void set_class_prior(const torch::Tensor& labels);
  /// One-hot rows [N, classes] after checking the labels; undefined when
  /// unconditional.
  torch::Tensor condition(const torch::Tensor& labels, int64_t n) const;

  GanOptions options;
  Generator generator{nullptr};
  Discriminator discriminator{nullptr};
  torch::Tensor log_prior;  // buffer [classes] (cgan), undefined otherwise
};

struct GanImpl : GanBase<GanImpl> {
  using GanBase<GanImpl>::GanBase;
};
TORCH_MODULE(Gan);

struct CganImpl : GanBase<CganImpl>, ClassConditional {
  using GanBase<CganImpl>::GanBase;
  int64_t classes() const override { return options.classes(); }
  torch::Tensor class_log_prior() const override { return log_prior.to(torch::kFloat64); }
  torch::Tensor sample_given(const torch::Tensor& labels) override { return generate_eval(labels, labels.size(0)); }
};
TORCH_MODULE(Cgan);

/// What the semi-supervised objective drives besides the two players: the
/// labelled examples a model keeps, its class logits and D's features.
struct SemiSupervised {
  virtual ~SemiSupervised() = default;
  virtual int64_t classes() const = 0;
  /// The labelled training images [L, ...] and their labels int64 [L].
  virtual torch::Tensor labelled_images() const = 0;
  virtual torch::Tensor labelled_labels() const = 0;
  /// Class logits [N, K] and D's last hidden layer [N, F] for x [N, ...].
  virtual torch::Tensor class_logits(const torch::Tensor& x) = 0;
  virtual torch::Tensor class_features(const torch::Tensor& x) = 0;
};

/// The semi-supervised GAN (Salimans et al. 2016): G as gan's, D a
/// classifier with K logits l_1..l_K whose "generated" class has the fixed
/// logit 0, so p(y = k | x) = softmax(l)_k among the data classes and
///   D(x) = p(real | x) = Z(x) / (Z(x) + 1),  Z(x) = sum_k exp l_k(x).
/// It keeps the few labelled training examples it learns from as buffers
/// (`model.labelled` of them, the same number per class, drawn from a
/// fixed stream of the training split), so a checkpoint holds them.
struct SsganImpl : GanBase<SsganImpl>, SemiSupervised {
  SsganImpl(GanOptions options, int64_t labelled_count);
  void reset() override;
  void add_labelled_buffers();
  /// Draws the labelled subset from the training rows and labels.
  void choose_labelled(const torch::Tensor& train_data, const torch::Tensor& train_labels, uint64_t seed);
  int64_t classes() const override { return options.d_outputs(); }
  torch::Tensor labelled_images() const override { return labelled_x; }
  torch::Tensor labelled_labels() const override { return labelled_y; }
  /// p(y | x) logits over the K data classes for x [N, ...]: [N, K].
  torch::Tensor class_logits(const torch::Tensor& x) override { return discriminator(x); }
  torch::Tensor class_features(const torch::Tensor& x) override { return discriminator->features(x).flatten(1); }
  int64_t labelled_count;
  torch::Tensor labelled_x, labelled_y;  // buffers [L, ...] and int64 [L]
};
TORCH_MODULE(Ssgan);

/// Registry entries. gan: the shared keys of read_adversarial_net_options
/// with model.arch = mlp by default; dcgan: the same with model.arch = conv
/// and Gaussian noise by default; cgan: mlp or conv with labels.
ModelInfo gan_model_info();
ModelInfo dcgan_model_info();
ModelInfo cgan_model_info();
/// ssgan: gan's keys (default D: 3 x 500 relu with dropout, G 2 x 500) and
/// model.labelled (100).
ModelInfo ssgan_model_info();

}  // namespace genzoo
