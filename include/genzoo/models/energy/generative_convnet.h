#pragma once
// The Generative ConvNet (Xie, Lu, Zhu, Wu 2016): an exponential tilting of
// Gaussian white noise by a ConvNet score f,
//   p(I; w) = exp(f(I; w)) q(I) / Z(w),   q(I) = N(0, σ²I),
// so the energy is E(I) = ‖I‖²/2σ² − f(I). With ReLU units f is piecewise
// linear: on the set of images sharing one activation pattern δ,
// f(I) = α_δ + ⟨I, B_δ⟩ with B_δ = ∂f/∂I, and p is the Gaussian
// N(σ²B_δ, σ²I) there. Langevin dynamics on E (sampling/langevin.h,
// coupled step δ) is the paper's sampler:
//   I ← I + (δ²/2)(∂f/∂I − I/σ²) + δ N(0, I).
// Images are modelled on the scale of the authors' code: I = 255 (x − m),
// x in [0,1] and m the per-channel mean of the training images (a buffer),
// so I = 0 is the mean image.
#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

#include "genzoo/core/enum_names.h"
#include "genzoo/models/model.h"
#include "genzoo/sampling/langevin.h"

namespace genzoo {

/// The units of f: ReLU (the paper's; f piecewise linear) or the smooth
/// alternatives the paper leaves open.
enum class GcnUnit { Relu, LeakyRelu, Sigmoid, Tanh, Swish };
/// "relu", "leaky_relu", "sigmoid", "tanh", "swish".
const EnumNames<GcnUnit>& gcn_unit_names();

/// The reference distribution q that f tilts (config: model.reference), on
/// the model scale I = 255 (x − m), per pixel:
///   gaussian  N(0, σ²): −log q = I²/2σ² (the paper's)
///   laplace   Laplace(0, σ): −log q = |I|/σ (heavier tails, sparse
///             deviations from the mean image)
///   uniform   uniform on the data range [−255 m, 255 (1 − m)]: −log q = 0
///             inside, and Langevin clamps the chains to the range (for
///             colour images, to the intersection of the channels' ranges)
/// (the seed's open question: which q a ConvNet should tilt).
enum class GcnReference { Gaussian, Laplace, Uniform };
/// "gaussian", "laplace", "uniform".
const EnumNames<GcnReference>& gcn_reference_names();

/// How f reads the last convolution: `sum` adds every response of the last
/// layer's units over channels and positions (textures: a fully
/// convolutional f that applies to images of any size); `linear` is one
/// fully connected output on top, without a unit (object patterns, a fixed
/// image size).
enum class GcnTop { Sum, Linear };
/// "sum", "linear".
const EnumNames<GcnTop>& gcn_top_names();

/// One convolution of f: filters of size kernel x kernel, stride, zero padding.
struct GcnLayer {
  int64_t filters = 0, kernel = 0, stride = 1, padding = 0;
};

/// Parses "FxKsSpP,..." (e.g. "100x15s3p2,64x5s1p2,30x3s1p2": 100 filters
/// of 15 x 15, stride 3, padding 2, then ...); a genzoo::Error naming `key`
/// on anything else.
std::vector<GcnLayer> parse_gcn_layers(const std::string& spec, const std::string& key);
/// The output side of the convolutions for an input side (0 when a kernel
/// does not fit: side + 2 padding < kernel).
int64_t gcn_output_side(const std::vector<GcnLayer>& layers, int64_t side);
/// The inverse of parse_gcn_layers.
std::string gcn_layers_string(const std::vector<GcnLayer>& layers);

/// The Langevin keys the Generative ConvNet and the classifier share:
/// model.sigma (> 0), model.step_size (> 0) and model.sample_steps (>= 0),
/// read with these defaults; a bad value is a genzoo::Error naming its key.
struct GcnSamplerKeys {
  double sigma = 1.0, step_size = 0.3;
  int64_t sample_steps = 100;
};
GcnSamplerKeys read_gcn_sampler_keys(Config& c, const GcnSamplerKeys& defaults);

/// The model scale of the Generative ConvNet and of the classifier built on
/// it: I = 255 (x − m), x in [0, 1], m [C] the per-channel training mean.
torch::Tensor gcn_to_model(const torch::Tensor& x, const torch::Tensor& mean);
/// I -> x = I / 255 + m (not clamped).
torch::Tensor gcn_to_data(const torch::Tensor& image, const torch::Tensor& mean);
/// Copies the per-channel mean of `train` [N, C, H, W] into `mean` [C];
/// `who` names the model in the shape error.
void gcn_set_mean(torch::Tensor& mean, const torch::Tensor& train, const char* who);

struct GenerativeConvNetOptions {
  /// Image channels.
  TORCH_ARG(int64_t, channels) = 1;
  /// The size sample() synthesises (and, for top = linear, the only size f takes).
  TORCH_ARG(int64_t, height) = 28;
  TORCH_ARG(int64_t, width) = 28;
  /// The convolutions of f (config: model.layers); the default is the
  /// texture net of the authors' release 1.3.
  TORCH_ARG(std::vector<GcnLayer>, layers) = (std::vector<GcnLayer>{{100, 15, 3, 2}, {64, 5, 1, 2}, {30, 3, 1, 2}});
  TORCH_ARG(GcnUnit, unit) = GcnUnit::Relu;
  TORCH_ARG(GcnTop, top) = GcnTop::Sum;
  /// The reference q (model.reference) and its scale σ on the 0-255
  /// scale: the sd of the Gaussian, the scale b of the Laplace (unused by
  /// the uniform).
  TORCH_ARG(GcnReference, reference) = GcnReference::Gaussian;
  TORCH_ARG(double, sigma) = 1.0;
  /// δ, the Langevin step (noise δ, drift δ²/2).
  TORCH_ARG(double, step_size) = 0.3;
  /// Langevin steps sample() runs from the mean image.
  TORCH_ARG(int64_t, sample_steps) = 100;
  /// Weights start N(0, init_std²), biases at 0 (the authors' code: 0.01).
  TORCH_ARG(double, init_std) = 0.01;
  /// Synthesised images the model keeps (the training chains; config:
  /// objective.chains), at height x width.
  TORCH_ARG(int64_t, chains) = 1;
  /// Learnt layer by layer (the authors' default scheme; config:
  /// objective.layer_steps > 0): f reads only the first depth()
  /// convolutions, a buffer that starts at 1 and that the objective raises
  /// stage by stage (top = sum only). False: f reads every convolution.
  TORCH_ARG(bool, staged) = false;
  /// K grey-level units per channel (config: model.grey_units; 0 = none):
  /// f gains Σ_{c,k} w_ck Σ_pixels ReLU(I_c − β_ck), β_ck = 255 (t_k − m_c),
  /// t_k = (k + ½)/K, the pixel-value thresholds spread evenly over [0, 1].
  /// A weighted sum of them is any piecewise-linear function of a pixel's
  /// grey level with knots at the t_k, so the contrastive gradient matches
  /// the mean of ReLU(I − β) under data and samples: the grey-level
  /// histogram integrated at K points (FRAME's marginal-histogram
  /// features, Zhu, Wu and Mumford 1998, as ReLU units, so f stays
  /// piecewise linear). The weights w [C, K] start at 0.
  TORCH_ARG(int64_t, grey_units) = 0;
};

/// The Gaussian piece an image lies on (Xie et al. 2016, sec. 3): with
/// ReLU (or leaky ReLU) units, f(I) = α_δ + ⟨I, B_δ⟩ for every image with
/// the activation pattern δ of I, so there p(I) ∝ exp(−‖I − σ²B_δ‖²/2σ²).
/// For a smooth unit (sigmoid, tanh, swish) the same construction uses each
/// unit's slope at I in place of its gate; f is then not linear on any
/// piece, and `residual` measures how far it is from that.
struct GcnPiece {
  torch::Tensor score;           ///< f(I) [N]
  torch::Tensor alpha;           ///< α_δ [N]: f of the zero image through the gates (slopes) of δ, the biases' part
  torch::Tensor basis;           ///< B_δ = ∂f/∂I [N, C, H, W]
  torch::Tensor reconstruction;  ///< σ²B_δ, the piece's mean [N, C, H, W] (Gaussian q; undefined for the others)
  torch::Tensor residual;        ///< f(I) − α_δ − ⟨I, B_δ⟩ [N]: 0 up to rounding for ReLU
  std::vector<torch::Tensor> pattern;  ///< δ: per layer, bool [N, F, H', W'], true where a unit's input is > 0
};

struct GenerativeConvNetImpl : torch::nn::Cloneable<GenerativeConvNetImpl>, Sampler, AnySizeSampler, Energy,
                               VisibleUnits {
  explicit GenerativeConvNetImpl(GenerativeConvNetOptions options = {});
  void reset() override;

  /// Sets m to the per-channel mean of `train` [N, C, H, W] in [0,1].
  void set_mean(const torch::Tensor& train);
  /// x in [0,1] [N, C, H, W] -> I = 255 (x − m).
  torch::Tensor to_model(const torch::Tensor& x) const;
  /// I -> x = I / 255 + m (not clamped: Langevin may leave [0,1]).
  torch::Tensor to_data(const torch::Tensor& image) const;

  /// f(I), [N], for I [N, C, H, W] on the model scale; differentiable in I and w.
  torch::Tensor score(const torch::Tensor& image);
  /// The last convolution's unit responses, [N, F, H', W'] (what top = sum adds up).
  torch::Tensor features(const torch::Tensor& image);
  /// f from the last convolution's responses h [N, F, H', W']: their sum
  /// (top = sum) or the linear output (top = linear), [N].
  torch::Tensor read_out(const torch::Tensor& h);
  /// The grey-level units' part of f, Σ w_ck Σ_pixels ReLU(I_c − β_ck),
  /// [N] (zeros without grey units).
  torch::Tensor grey_term(const torch::Tensor& image);
  /// β [C, K] on the model scale.
  torch::Tensor grey_thresholds() const;
  /// Σ_{c,k} w_ck Σ_pixels u[n, c, k, ·, ·] for u [N, C, K, H, W], [N]: the
  /// grey units' weights applied to a per-unit, per-pixel map.
  torch::Tensor weigh_grey_units(const torch::Tensor& per_unit) const;
  /// −log q(I), [N], on the model scale (see GcnReference).
  torch::Tensor reference_energy(const torch::Tensor& image) const;
  /// E(I) = −log q(I) − f(I), [N], on the model scale (‖I‖²/2σ² − f(I)
  /// for the paper's Gaussian q).
  torch::Tensor model_energy(const torch::Tensor& image);
  /// Energy capability, on the data scale: E(255 (x − m)), [N].
  torch::Tensor energy(const torch::Tensor& x) override;
  /// Positions of the last convolution's output for an H x W image (f's
  /// sum runs over this many positions).
  int64_t positions(int64_t height, int64_t width);
  /// The convolutions f reads: all of them, or the first depth_ when staged.
  int64_t depth() const;
  /// Sets the depth of a staged model (1..layers); a genzoo::Error otherwise.
  void set_depth(int64_t d);

  /// The piece of each image I [N, C, H, W] (model scale); exact (residual
  /// 0 up to rounding) for relu and leaky_relu units.
  GcnPiece piece(const torch::Tensor& image);
  /// The responses of convolution `layer` (0-based) after its unit,
  /// [N, F, H', W'], for I on the model scale.
  torch::Tensor layer_responses(const torch::Tensor& image, int64_t layer);
  /// VisibleUnits: the filters of each convolution; Langevin of step δ on
  /// −log q(I) − h_unit(I) (model scale), images returned clamped to [0, 1].
  std::vector<int64_t> unit_layers() const override;
  torch::Tensor maximise_units(const torch::Tensor& x0, int64_t layer, const torch::Tensor& units,
                               int64_t steps) override;

  /// The coupled Langevin update of step δ for `steps` steps; with a
  /// uniform q, clamped to the data range (q's support).
  LangevinOptions langevin_options(int64_t steps) const;
  /// Langevin on E from I0 [N, C, H, W] (model scale).
  ChainResult synthesise(const torch::Tensor& start, int64_t steps);
  /// n images of height x width in [0,1] (the chains' images clamped to the
  /// data range) after sample_steps Langevin steps from the kept
  /// synthesised images once training has run any (cycled to n chains and
  /// tiled to height x width), else from the mean image; any size with top = sum,
  /// the training size only with top = linear (else a genzoo::Error).
  torch::Tensor sample_size(int64_t n, int64_t height, int64_t width) override;
  torch::Tensor sample(int64_t n) override;

  GenerativeConvNetOptions options;
  torch::nn::ModuleList convs;
  torch::nn::Linear top{nullptr};
  /// The grey-level units' weights w [C, K] (a parameter; undefined without grey units).
  torch::Tensor grey_weight;
  torch::Tensor mean;  // [C], buffer
  /// The synthesised images [chains, C, height, width] on the model scale
  /// (buffer; the mean image until training stores some) and how many
  /// Langevin steps they have run (buffer, int64 scalar).
  torch::Tensor synthesis, synthesis_steps;
  /// A staged model's depth (buffer, int64 scalar); undefined otherwise.
  torch::Tensor depth_;
  /// Keeps `images` [chains, C, height, width] as the synthesis after
  /// `steps` more Langevin steps.
  void keep_synthesis(const torch::Tensor& images, int64_t steps);
};
TORCH_MODULE(GenerativeConvNet);

/// Registry entry: reads model.layers, unit, top, reference, sigma, step_size,
/// sample_steps, init_std, grey_units (and objective.crop, chains and layer_steps, which
/// set the synthesis size, the chains kept and whether f is staged).
ModelInfo genconvnet_model_info();

}  // namespace genzoo
