#pragma once
// The generator and discriminator networks every adversarial model here
// shares (gan, dcgan, cgan):
//   mlp   G: z -> [Linear(g_hidden), (BatchNorm), ReLU] x g_layers -> Linear(D) -> output
//         D: x -> [unit(d_hidden)] x d_layers -> Linear(outputs), dropout on
//         its input and on every hidden layer. Goodfellow et al. 2014's MNIST
//         nets (the authors' pylearn2 code): G 2 x 1200 ReLU, D 2 x maxout
//         of 240 units with 5 pieces each, dropout keeping 0.8 of the inputs
//         and 0.5 of the hidden units.
//   conv  the 28 x 28 DCGAN (Radford et al. 2016, as in PyTorch's C++
//         example): G transposed convolutions z -> 256 (4x4) -> 128 (7x7) ->
//         64 (14x14) -> C (28x28) with BatchNorm and ReLU; D convolutions
//         C -> 64 (14x14) -> 128 (7x7) -> 256 (3x3) -> outputs (1x1) with
//         LeakyReLU(0.2) and BatchNorm on the middle two.
// G's output: sigmoid for [0, 1] pixels, tanh for [-1, 1], identity for
// 2-D points.
// Conditioning (cgan, Mirza & Osindero 2014): a one-hot label of width
// `conditions` beside z in G and beside x in D (mlp: concatenated; conv:
// `conditions` constant planes added to the input channels).
// Packing (PacGAN, Lin et al. 2018): D sees `pack` samples at once, their
// inputs concatenated (mlp: the flat vectors; conv: the channels), and
// returns one row of logits per pack, so a generator that repeats itself
// is easier to tell from the data.
#include <torch/torch.h>

#include <vector>

#include "genzoo/core/config.h"
#include "genzoo/models/model.h"

namespace genzoo {

enum class GanArch { Mlp, Conv };
/// "mlp", "conv".
const EnumNames<GanArch>& gan_arch_names();

/// The generator's noise: uniform U(-sqrt 3, sqrt 3) (unit variance, the
/// 2014 code's) or standard normal.
enum class GanNoise { Uniform, Gaussian };
/// "uniform", "gaussian".
const EnumNames<GanNoise>& gan_noise_names();

/// The mlp discriminator's hidden units.
enum class DiscriminatorUnit { Maxout, Relu, LeakyRelu };
/// "maxout", "relu", "leaky_relu".
const EnumNames<DiscriminatorUnit>& discriminator_unit_names();

struct AdversarialNetOptions {
  /// Shape of one image {C, H, W}; {2} for 2-D points.
  TORCH_ARG(std::vector<int64_t>, shape) = std::vector<int64_t>{1, 28, 28};
  /// The data's pixel format (sets G's output nonlinearity).
  TORCH_ARG(PixelFormat, format) = PixelFormat::Unit;
  TORCH_ARG(GanArch, arch) = GanArch::Mlp;
  /// Width of z.
  TORCH_ARG(int64_t, noise_dims) = 100;
  TORCH_ARG(GanNoise, noise) = GanNoise::Uniform;
  /// mlp G: units per hidden layer and hidden layers.
  TORCH_ARG(int64_t, g_hidden) = 1200;
  TORCH_ARG(int64_t, g_layers) = 2;
  /// mlp G: BatchNorm after each hidden layer's affine map (PacGAN's 2-D
  /// generator; the 2014 nets have none).
  TORCH_ARG(bool, g_batchnorm) = false;
  /// mlp D: unit kind, units per hidden layer (maxout: units, each the max
  /// of d_pieces linear pieces), hidden layers.
  TORCH_ARG(DiscriminatorUnit, d_unit) = DiscriminatorUnit::Maxout;
  TORCH_ARG(int64_t, d_hidden) = 240;
  TORCH_ARG(int64_t, d_pieces) = 5;
  TORCH_ARG(int64_t, d_layers) = 2;
  /// mlp D: dropout probabilities (of dropping) on the input and on each
  /// hidden layer.
  TORCH_ARG(double, d_input_dropout) = 0.2;
  TORCH_ARG(double, d_dropout) = 0.5;
  /// mlp D: the largest norm of each unit's incoming weights, enforced
  /// after every update (the 2014 code's max_col_norm, 1.9365, on all of
  /// D's layers); 0 = none.
  TORCH_ARG(double, d_max_norm) = 0;
  /// Every affine map and convolution of D spectrally normalised (Miyato et
  /// al. 2018, SpectralLinear / SpectralConv2d), one power iteration after
  /// every D update.
  TORCH_ARG(bool, d_spectral_norm) = false;
  /// mlp: G's and D's weights drawn U(-range, range), biases 0 (the 2014
  /// code's irange: 0.05 for G, 0.005 for D); 0 = LibTorch's default
  /// initialisation.
  TORCH_ARG(double, g_init_range) = 0;
  TORCH_ARG(double, d_init_range) = 0;
  /// Samples D judges together (PacGAN); 1 = one at a time.
  TORCH_ARG(int64_t, pack) = 1;
  /// Width of a one-hot label beside z and x; 0 = unconditional.
  TORCH_ARG(int64_t, conditions) = 0;
  /// D's logits per pack: 1 (real vs generated).
  TORCH_ARG(int64_t, d_outputs) = 1;
};

/// True for 2-D points (shape {2}).
bool adversarial_points(const AdversarialNetOptions& o);

struct GeneratorImpl : torch::nn::Cloneable<GeneratorImpl> {
  explicit GeneratorImpl(AdversarialNetOptions options);
  void reset() override;
  /// z [N, noise_dims] (and cond [N, conditions]) -> [N, C, H, W] (or [N, 2])
  /// in the data space.
  torch::Tensor forward(const torch::Tensor& z, const torch::Tensor& cond = {});
  /// The output layer's bias before the nonlinearity starts at the training
  /// marginals (per channel for conv), as the 2014 code did: G's first
  /// samples have the data's mean image.
  void init_from_marginals(const torch::Tensor& train_data);

  AdversarialNetOptions options;
  torch::nn::Sequential net{nullptr};
};
TORCH_MODULE(Generator);

struct DiscriminatorImpl : torch::nn::Cloneable<DiscriminatorImpl> {
  explicit DiscriminatorImpl(AdversarialNetOptions options);
  void reset() override;
  /// x [N, ...] (and cond [N, conditions]), N a multiple of pack ->
  /// logits [N / pack, d_outputs].
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& cond = {});
  /// The last hidden layer, the input of the output layer: [N / pack, F]
  /// (mlp) or [N / pack, 256, 3, 3] (conv); feature matching compares
  /// its means (Salimans et al. 2016).
  torch::Tensor features(const torch::Tensor& x, const torch::Tensor& cond = {});
  /// What follows every D update: apply_max_norm(), then one power
  /// iteration of each spectrally normalised layer (d_spectral_norm).
  void constrain();
  /// Rescales each linear unit's incoming weight vector to norm d_max_norm
  /// where it is longer (no-op when d_max_norm = 0).
  void apply_max_norm();

  AdversarialNetOptions options;
  torch::nn::Sequential net{nullptr}, head{nullptr};  // hidden layers; the output layer
};
TORCH_MODULE(Discriminator);

/// The shared keys, for data `spec`: model.arch (mlp; conv needs 28 x 28
/// images), model.noise_dims, model.noise, model.pack, model.d_spectral_norm; mlp: model.g_hidden,
/// model.g_layers, model.g_batchnorm, model.d_unit, model.d_hidden, model.d_pieces (maxout),
/// model.d_layers, model.d_input_dropout, model.d_dropout, model.d_max_norm, model.g_init_range,
/// model.d_init_range. Each reads only
/// its own keys, so a run's config.toml lists what it used. `defaults`
/// gives the values of absent keys; with `arch_key` false the architecture
/// is the default's and model.arch is not read (dcgan is conv).
AdversarialNetOptions read_adversarial_net_options(Config& config, const DataSpec& spec,
                                                   AdversarialNetOptions defaults = {}, bool arch_key = true);

}  // namespace genzoo
