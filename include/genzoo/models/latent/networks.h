#pragma once
// The encoder and decoder every latent-variable model here shares (the VAE,
// the autoencoders, the conditional VAE): an encoder x -> [N, outputs] and a
// decoder z -> the parameters of p(x|z), with the decoder's likelihood.
//   mlp   fully connected, `layers` deterministic layers of `hidden` units on
//         each side (Burda et al. 2016: 2 x 200 tanh, 50 latent units)
//   conv  a small DCGAN-like pair (Radford et al. 2016) for images whose
//         sides divide by 4: conv 4x4/2 to c and 2c channels, ReLU, a linear
//         layer to the outputs; the decoder mirrors it with a linear layer
//         and two transposed convolutions
#include <torch/torch.h>

#include <vector>

#include "genzoo/core/config.h"
#include "genzoo/models/latent/likelihood.h"
#include "genzoo/models/model.h"

namespace genzoo {

enum class LatentArch { Mlp, Conv };
/// "mlp", "conv".
const EnumNames<LatentArch>& latent_arch_names();

/// The mlp's nonlinearity: tanh (Burda et al.) or relu (conv always uses relu).
enum class LatentActivation { Tanh, Relu };
/// "tanh", "relu".
const EnumNames<LatentActivation>& latent_activation_names();

struct EncoderDecoderOptions {
  /// Shape of one image {C, H, W}.
  TORCH_ARG(std::vector<int64_t>, shape) = std::vector<int64_t>{1, 28, 28};
  /// Config: model.arch.
  TORCH_ARG(LatentArch, arch) = LatentArch::Mlp;
  /// mlp: units of each deterministic layer, encoder and decoder alike.
  TORCH_ARG(int64_t, hidden) = 200;
  /// mlp: deterministic layers on each side.
  TORCH_ARG(int64_t, layers) = 2;
  /// conv: channels of the first convolution (the second has twice as many).
  TORCH_ARG(int64_t, channels) = 32;
  /// Latent units (the decoder's input).
  TORCH_ARG(int64_t, latent) = 50;
  /// Config: model.activation (mlp).
  TORCH_ARG(LatentActivation, activation) = LatentActivation::Tanh;
  /// The decoder's likelihood (the factory's default follows the data).
  TORCH_ARG(PixelLikelihood, likelihood) = PixelLikelihood::Bernoulli;
  /// The data's pixel format (the range of means and samples).
  TORCH_ARG(PixelFormat, format) = PixelFormat::Binary;
  /// gaussian: the standard deviation, fixed, or the start of a learned
  /// one per pixel with learn_sigma.
  TORCH_ARG(double, sigma) = 0.1;
  TORCH_ARG(bool, learn_sigma) = false;
  /// Width of a conditioning vector (a one-hot class label) that the
  /// encoder takes beside x (mlp: with the pixels; conv: with the
  /// convolutional features, before the last linear layer) and the decoder
  /// beside z; 0 = none.
  TORCH_ARG(int64_t, conditions) = 0;
};

struct EncoderDecoderImpl : torch::nn::Cloneable<EncoderDecoderImpl> {
  /// `encoder_outputs`: 2 * latent for a Gaussian posterior [mu, log
  /// sigma^2], latent for a deterministic code.
  EncoderDecoderImpl(EncoderDecoderOptions options, int64_t encoder_outputs);
  void reset() override;

  /// The encoder on x [N, C, H, W] (any data format): [N, encoder_outputs];
  /// `cond` [N, conditions] when the options have conditions.
  torch::Tensor encoder_output(const torch::Tensor& x, const torch::Tensor& cond = {});
  /// The decoder on z [..., latent]: [..., P * D], the P parameters of each
  /// pixel (likelihood_outputs), parameter-major; `cond` [..., conditions]
  /// when the options have conditions.
  torch::Tensor decoder_output(const torch::Tensor& z, const torch::Tensor& cond = {});
  /// p(x|z) from decoder outputs.
  PixelDistribution distribution(const torch::Tensor& out) const;
  int64_t dims() const;
  torch::ScalarType dtype() const;

  EncoderDecoderOptions options;
  int64_t encoder_outputs;
  torch::nn::Sequential encoder{nullptr}, decoder{nullptr};
  torch::Tensor log_sigma;  // gaussian: [D] parameter (learned) or [] buffer (fixed)
};
TORCH_MODULE(EncoderDecoder);

/// The shared keys, for data `spec`: model.arch, model.latent,
/// model.likelihood (default by the data: bernoulli, gaussian, logistic),
/// mlp: model.hidden, model.layers, model.activation; conv: model.channels;
/// gaussian: model.sigma, model.learn_sigma. Each reads only its own keys,
/// so a run's config.toml lists what it used.
EncoderDecoderOptions read_encoder_decoder_options(Config& config, const DataSpec& spec);

/// A Bernoulli decoder's output biases start at the logits of the training
/// marginals (per channel, their mean, for the conv decoder); other
/// likelihoods are left as initialised.
void init_decoder_from_marginals(EncoderDecoder& net, const torch::Tensor& train_data);

}  // namespace genzoo
