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
  /// D's logits for x [N, ...] (N a multiple of pack()): [N / pack, 1];
  /// D(x) = sigmoid(logit).
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
};

struct GanOptions {
  TORCH_ARG(AdversarialNetOptions, net) = AdversarialNetOptions{};
  /// Class labels 0..classes-1 (cgan); 0 = unconditional.
  TORCH_ARG(int64_t, classes) = 0;
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

/// Registry entries. gan: the shared keys of read_adversarial_net_options
/// with model.arch = mlp by default; dcgan: the same with model.arch = conv
/// and Gaussian noise by default; cgan: mlp or conv with labels.
ModelInfo gan_model_info();
ModelInfo dcgan_model_info();
ModelInfo cgan_model_info();

}  // namespace genzoo
