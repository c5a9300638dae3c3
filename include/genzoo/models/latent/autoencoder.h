#pragma once
// Autoencoders: x -> z = h(x) -> a decoder's p(x|z), trained to reconstruct.
// An autoencoder compresses; on its own it is not a generative model (its
// code space has holes: decoding z ~ N(0, I) gives no images). The
// denoising autoencoder (Vincent et al. 2008) learns to undo a corruption:
//   loss = -(1/B) sum_b log p(x_b | z = h(c(x_b))),  c a random corruption,
// with p(x|z) the decoder likelihood of the data (Bernoulli: the
// cross-entropy; Gaussian: the squared error up to constants; discretised
// logistic for 256 levels). The encoder and decoder are those of the VAE
// (models/latent/networks.h), with a deterministic code of `latent` units.
#include <torch/torch.h>

#include "genzoo/models/latent/networks.h"
#include "genzoo/models/model.h"

namespace genzoo {

/// How the denoising autoencoder corrupts its input, with `level` in [0, 1]:
///   gaussian         x + level * (max - min) * N(0, 1), clipped to the range
///   masking          each pixel set to the range's minimum with probability level
///   salt_and_pepper  each pixel set to the minimum or the maximum (equally
///                    likely) with probability level
/// For 256 levels the result is rounded to whole levels; binary pixels stay
/// binary under masking and salt-and-pepper.
enum class Corruption { None, Gaussian, Masking, SaltAndPepper };
/// "none", "gaussian", "masking", "salt_and_pepper".
const EnumNames<Corruption>& corruption_names();

/// A corrupted copy of x [N, ...] in `format`, drawn from the global generator.
torch::Tensor corrupt(const torch::Tensor& x, Corruption corruption, double level, PixelFormat format);

struct AutoencoderOptions {
  /// The encoder (to the code) and decoder.
  TORCH_ARG(EncoderDecoderOptions, net) = EncoderDecoderOptions{};
  /// Config (dae): model.noise, model.noise_level.
  TORCH_ARG(Corruption, corruption) = Corruption::None;
  TORCH_ARG(double, level) = 0.25;
};

/// A model trained to reconstruct (the reconstruction objective drives it
/// through this).
struct Reconstructor {
  virtual ~Reconstructor() = default;
  /// log p(target | z = h(input)) for every row, [N], differentiable.
  virtual torch::Tensor reconstruction_log_prob(const torch::Tensor& input, const torch::Tensor& target) = 0;
  /// The training corruption of x (x itself when there is none).
  virtual torch::Tensor corrupt_input(const torch::Tensor& x) = 0;
  /// True when corrupt_input changes x (a denoising autoencoder).
  virtual bool denoises() const = 0;
  /// The decoder's mean given the code of x: [N, C, H, W], no gradients needed.
  virtual torch::Tensor reconstruct(const torch::Tensor& x) = 0;
  /// The training corruption and its level (None for a plain autoencoder).
  virtual Corruption corruption() const = 0;
  virtual double corruption_level() const = 0;
};

struct AutoencoderImpl : torch::nn::Cloneable<AutoencoderImpl>, Latent, Reconstructor {
  explicit AutoencoderImpl(AutoencoderOptions options = {});
  void reset() override;

  /// The code z = h(x), [N, Z].
  torch::Tensor encode(const torch::Tensor& x) override;
  /// The decoder's mean of x given z, in the data's range, [N, C, H, W].
  torch::Tensor decode(const torch::Tensor& z) override;
  /// decode(encode(x)).
  torch::Tensor reconstruct(const torch::Tensor& x) override;
  Corruption corruption() const override { return options.corruption(); }
  double corruption_level() const override { return options.level(); }
  torch::Tensor reconstruction_log_prob(const torch::Tensor& input, const torch::Tensor& target) override;
  torch::Tensor corrupt_input(const torch::Tensor& x) override;
  bool denoises() const override { return options.corruption() != Corruption::None; }

  AutoencoderOptions options;
  EncoderDecoder net{nullptr};
};
TORCH_MODULE(Autoencoder);

/// "ae": the shared keys of read_encoder_decoder_options (model.latent
/// defaults to 50); no corruption.
ModelInfo autoencoder_model_info();
/// "dae": the same, and model.noise (masking), model.noise_level (0.25).
ModelInfo denoising_autoencoder_model_info();

}  // namespace genzoo
