#pragma once
// Models are torch::nn::Modules that implement the capability interfaces that
// are true of them. Callers ask with as<Density>(model) and get nullptr when
// the model cannot do it. What a model can do and which data it accepts are
// also stated as data in its ModelInfo, so the CLI can list, check and
// explain models without building one.
//
// Gradient mode belongs to the model. Callers (genzoo sample, genzoo eval,
// the trainer's sample grids) draw through draw_samples(), which runs
// Sampler::sample under torch::NoGradGuard; they call Completer::complete
// under NoGradGuard too, and never under InferenceMode (tensors made there
// cannot enter autograd). A sampler that needs gradients with respect to
// its input (Langevin dynamics on dE/dx) turns them on itself, for the
// input only, with sampling/input_gradient.h, and returns detached tensors.
// Density::log_prob and Energy::energy run in the caller's mode: training
// differentiates them, evaluation calls them under NoGradGuard.
#include <torch/torch.h>

#include <cmath>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "genzoo/core/config.h"
#include "genzoo/core/enum_names.h"

namespace genzoo {

enum class Bound { Exact, LowerBound };

struct Sampler {
  virtual ~Sampler() = default;
  /// n samples [n, C, H, W] (or [n, 2] for points) in the model's data space.
  virtual torch::Tensor sample(int64_t n) = 0;
};

struct Density {
  virtual ~Density() = default;
  /// log p(x) in nats per example, [N], for x in the model's data space.
  virtual torch::Tensor log_prob(const torch::Tensor& x) = 0;
  virtual Bound bound() const { return Bound::Exact; }
  /// True when log_prob is a density over continuous pixels (a Gaussian
  /// decoder), not the probability of discrete ones: then it is a number of
  /// nats of density, and bits/dim exists only on dequantised data.
  virtual bool continuous() const { return false; }
};

/// A sampler that synthesises images of any size, not only the training
/// size (a fully convolutional energy: `genzoo sample RUN --size HxW`).
struct AnySizeSampler {
  virtual ~AnySizeSampler() = default;
  /// n images [n, C, height, width] in the model's data space; a
  /// genzoo::Error when this model cannot take that size.
  virtual torch::Tensor sample_size(int64_t n, int64_t height, int64_t width) = 0;
};

struct Energy {
  virtual ~Energy() = default;
  /// Unnormalised -log p(x), [N], differentiable in x.
  virtual torch::Tensor energy(const torch::Tensor& x) = 0;
};

/// A model that classifies: class logits for images (the accuracy metric
/// scores them on a labelled split).
struct Classifier {
  virtual ~Classifier() = default;
  virtual int64_t classes() const = 0;
  /// x [N, C, H, W] in the model's data space -> logits [N, classes].
  virtual torch::Tensor class_logits(const torch::Tensor& x) = 0;
};

/// A model whose hidden units can be made visible (`genzoo explain RUN
/// --units LAYER`): activation maximisation under the model's reference
/// prior q, p_unit(x) ∝ exp(h_unit(x)) q(x), h_unit the sum over positions
/// of one channel's responses in one layer (its share of f when f sums
/// them), sampled by the model's own Langevin chain.
struct VisibleUnits {
  virtual ~VisibleUnits() = default;
  /// Channels of each layer whose units can be shown, bottom first.
  virtual std::vector<int64_t> unit_layers() const = 0;
  /// Langevin chains x0 [N, C, H, W] (data space) run for `steps` steps
  /// on −log q(x) − h_{layer, units[n]}(x), each chain n on its own unit
  /// (units int64 [N]); returns the final images in the data space, [N, C, H, W].
  virtual torch::Tensor maximise_units(const torch::Tensor& x0, int64_t layer, const torch::Tensor& units,
                                       int64_t steps) = 0;
};

/// Conditional completion: sample the unobserved pixels given the observed
/// ones (inpainting for autoregressive models).
struct Completer {
  virtual ~Completer() = default;
  /// x: [N, C, H, W] in the model's data space; observed: bool, the same
  /// shape or [1, C, H, W], true where x is given. Returns [N, C, H, W],
  /// equal to x wherever observed, sampled elsewhere.
  virtual torch::Tensor complete(const torch::Tensor& x, const torch::Tensor& observed) = 0;
  /// True when complete() draws exactly from p(x_missing | x_observed). A
  /// fixed-order autoregressive model achieves that when every observed pixel
  /// precedes every missing one in its ordering (e.g. the top half in raster
  /// order); otherwise each missing pixel is drawn given the pixels before
  /// it, and observed pixels later in the order do not inform it.
  virtual bool completion_is_exact(const torch::Tensor& observed) const = 0;
  /// One line on how complete() fills the pixels, for the user: by default
  /// the autoregressive reading of completion_is_exact.
  virtual std::string completion_note(const torch::Tensor& observed) const {
    return completion_is_exact(observed)
               ? "exact: every observed pixel precedes every missing one in the model's order"
               : "approximate: some observed pixels come after missing ones in the model's order; each missing "
                 "pixel is drawn given the pixels before it only";
  }
};

/// Restores corrupted images without knowing the corruption (genzoo
/// denoise): an energy model descends its energy from the corrupted image.
/// (Autoencoders restore through their reconstruction instead.)
struct Restorer {
  virtual ~Restorer() = default;
  /// x [N, C, H, W] in the model's data space -> restored images, same shape.
  virtual torch::Tensor restore(const torch::Tensor& x) = 0;
};

struct Latent {
  virtual ~Latent() = default;
  /// The posterior mean of z given x.
  virtual torch::Tensor encode(const torch::Tensor& x) = 0;
  /// The decoder's mean of x given z.
  virtual torch::Tensor decode(const torch::Tensor& z) = 0;
};

/// A model of p(x | y) for a class label y in [0, classes()). Its Sampler
/// (when it has one) draws y from the model's class prior first;
/// sample_given draws for the labels asked, so that a grid can show one row
/// per class.
struct ClassConditional {
  virtual ~ClassConditional() = default;
  virtual int64_t classes() const = 0;
  /// log p(y) of the model's class prior, double [classes] (what its
  /// Sampler draws labels from); uniform unless the model says otherwise.
  virtual torch::Tensor class_log_prior() const {
    return torch::full({classes()}, -std::log(static_cast<double>(classes())), torch::kFloat64);
  }
  /// One sample per label: labels int64 [n] in [0, classes()) -> [n, C, H, W]
  /// in the model's data space.
  virtual torch::Tensor sample_given(const torch::Tensor& labels) = 0;
};

/// A density of images given their class label, trained on log p(x | y)
/// when the data carry labels (the likelihood objective), its Density being
/// the marginal log sum_y p(y) p(x | y).
struct ConditionalDensity {
  virtual ~ConditionalDensity() = default;
  /// log p(x | y) in nats, [N]; labels int64 [N].
  virtual torch::Tensor log_prob_given(const torch::Tensor& x, const torch::Tensor& labels) = 0;
};

/// A model that factorises p(x) by the chain rule in one or more fixed
/// orderings (MADE has one per mask): the conditionals of ordering k
/// depend only on the pixels before them in that ordering.
struct Autoregressive {
  virtual ~Autoregressive() = default;
  virtual int64_t orderings() const { return 1; }
  /// The parameters of every conditional p(x_i | x_<i) under ordering k,
  /// differentiable in x: [N, D] (Bernoulli logits) or [N, D, K].
  virtual torch::Tensor conditionals(const torch::Tensor& x, int64_t ordering) = 0;
  /// rank[d]: when pixel d is generated under ordering k (smaller = earlier), int64 [D].
  virtual torch::Tensor generation_rank(int64_t ordering) const = 0;
};

using ModulePtr = std::shared_ptr<torch::nn::Module>;

template <typename Capability>
std::shared_ptr<Capability> as(const ModulePtr& model) {
  return std::dynamic_pointer_cast<Capability>(model);
}

enum class Capability { Sample, Density, Complete, Energy, Latent, Autoregressive, Conditional };
/// "sample", "density", "complete", "energy", "latent", "autoregressive",
/// "conditional" (ClassConditional).
const EnumNames<Capability>& capability_names();
using Capabilities = std::vector<Capability>;
bool has_capability(const Capabilities& caps, Capability c);
/// "sample,density,complete" in the order of `caps`.
std::string capability_list(const Capabilities& caps);
/// The capability interfaces `model` implements, in enum order.
Capabilities implemented_capabilities(const ModulePtr& model);

/// How pixels reach a model (set by data.binarize, data.levels, data.scale).
///   binary     {0,1} (any --binarize)
///   levels256  grey levels as whole numbers 0..255 (data.levels = 256)
///   unit       grey values in [0,1] (the default; [0,1) with data.dequantize)
///   symmetric  grey values in [-1,1] (data.scale = symmetric)
///   points     2-D points [N, 2] (toy data)
enum class PixelFormat { Binary, Levels256, Unit, Symmetric, Points };
const EnumNames<PixelFormat>& pixel_format_names();

/// What a model is built for: the data's shape and how pixels are presented.
struct DataSpec {
  int64_t channels = 1, height = 28, width = 28;
  PixelFormat format = PixelFormat::Unit;
  /// Class labels 0..classes-1 come with the data; 0 = unlabelled.
  int64_t classes = 0;
  bool points() const { return format == PixelFormat::Points; }
  int64_t dims() const { return points() ? 2 : channels * height * width; }
};

/// The data a model accepts.
struct DataNeeds {
  std::vector<PixelFormat> formats;  // accepted pixel formats
  std::vector<int64_t> channels;     // accepted channel counts; empty = any
  std::vector<std::pair<int64_t, int64_t>> sizes;  // accepted H x W; empty = images of any size
  bool labels = false;  // needs class labels (a class-conditional model)
};

/// Everything a factory may use to build a model.
struct ModelContext {
  Config* config = nullptr;  // the model reads its options under "model."
  DataSpec data;
  /// Prepared training data [N, ...] (as the model sees it, before per-batch
  /// noise), for data-dependent initialisation; may be undefined.
  torch::Tensor train_data;
  /// Their class labels, int64 [N]; undefined when the data have none.
  torch::Tensor train_labels;
};

/// A model as data: what the registry lists and `genzoo models` prints,
/// available without building the model.
struct ModelInfo {
  std::string name;
  std::string family;       // "explicit", "latent", "adversarial", "energy"
  std::string description;  // one line
  /// What the built module implements; the contract suite checks that the
  /// two agree.
  Capabilities capabilities;
  DataNeeds accepts;
  std::function<ModulePtr(ModelContext&)> create;
};

/// "" when `info` accepts data of `spec`, else the one line that says how
/// to fix the call ("model 'nade' models binary pixels: add --binarize
/// threshold|static|dynamic").
std::string data_mismatch(const ModelInfo& info, const DataSpec& spec);

/// Builds the model after checking data_mismatch; a failed option check
/// inside the factory (TORCH_CHECK) becomes a genzoo::Error naming the model.
ModulePtr create_model(const ModelInfo& info, ModelContext& ctx);

/// n samples, drawn `chunk` at a time under torch::NoGradGuard and
/// concatenated: [n, ...] in the model's data space. The one way samples
/// are drawn by `genzoo sample`, `genzoo eval` and the trainer's grids, so
/// a sampler that works in one works in all, and one seed gives the same
/// samples in each.
torch::Tensor draw_samples(Sampler& sampler, int64_t n, int64_t chunk = 1000);

/// One sample per label (int64 [n]), drawn `chunk` at a time under
/// torch::NoGradGuard: [n, ...].
torch::Tensor draw_given(ClassConditional& model, const torch::Tensor& labels, int64_t chunk = 1000);
/// `per_class` samples of each of the first `rows` classes (all when
/// rows = 0), class by class (the rows of a grid with per_class columns),
/// drawn like draw_samples: [rows * per_class, ...].
torch::Tensor draw_class_rows(ClassConditional& model, int64_t per_class, int64_t rows = 0, int64_t chunk = 1000);

/// The log class frequencies of training labels int64 [N] in [0, classes),
/// add-one smoothed so that no class has probability 0: [classes], in
/// `dtype`. The class prior of class-conditional models (cvae, cgan);
/// `who` names the model in the error for labels out of range.
torch::Tensor smoothed_log_class_frequencies(const torch::Tensor& labels, int64_t classes, torch::ScalarType dtype,
                                             const char* who);

/// Loads parameters and buffers saved by Module::save into `module`, like
/// Module::load but rejecting any missing tensor or shape/dtype mismatch with
/// a genzoo::Error ("has no parameter 'x'", "stores 'x' as [3] ...").
void load_module_checked(torch::nn::Module& module, torch::serialize::InputArchive& archive,
                         const std::string& prefix = "");

}  // namespace genzoo
