#pragma once
// Models are torch::nn::Modules that implement the capability interfaces that
// are true of them. Callers ask with as<Density>(model) and get nullptr when
// the model cannot do it.
#include <torch/torch.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "genzoo/core/config.h"

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
};

struct Energy {
  virtual ~Energy() = default;
  /// Unnormalised -log p(x), [N].
  virtual torch::Tensor energy(const torch::Tensor& x) = 0;
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
};

struct Latent {
  virtual ~Latent() = default;
  virtual torch::Tensor encode(const torch::Tensor& x) = 0;
  virtual torch::Tensor decode(const torch::Tensor& z) = 0;
};

using ModulePtr = std::shared_ptr<torch::nn::Module>;

template <typename Capability>
std::shared_ptr<Capability> as(const ModulePtr& model) {
  return std::dynamic_pointer_cast<Capability>(model);
}

/// What a model is built for: the data's shape and how pixels are presented.
struct DataSpec {
  int64_t channels = 1, height = 28, width = 28;
  bool points = false;   // toy 2-D data: x is [N, 2]
  bool binary = false;   // pixels are {0,1}
  int64_t dims() const { return points ? 2 : channels * height * width; }
};

/// Everything a factory may use to build a model.
struct ModelContext {
  Config* config = nullptr;  // the model reads its options under "model."
  DataSpec data;
  /// Prepared training data [N, ...] (as the model sees it, before per-batch
  /// noise), for data-dependent initialisation; may be undefined.
  torch::Tensor train_data;
};

struct ModelInfo {
  std::string name;
  std::string family;       // "explicit", "latent", "adversarial", "energy"
  std::string description;  // one line
  std::string objective;    // training objective: "likelihood", ...
  bool needs_binary = false;
  std::function<ModulePtr(ModelContext&)> create;
};

/// Loads parameters and buffers saved by Module::save into `module`, like
/// Module::load but rejecting any missing tensor or shape/dtype mismatch with
/// a genzoo::Error ("has no parameter 'x'", "stores 'x' as [3] ...").
void load_module_checked(torch::nn::Module& module, torch::serialize::InputArchive& archive,
                         const std::string& prefix = "");

/// Capability names the module implements: "sample", "density", "complete",
/// "energy", "latent".
std::vector<std::string> capabilities(const ModulePtr& model);

/// The registry (built once, explicitly: no static-initialisation tricks that
/// a static library's linker would drop).
const std::vector<ModelInfo>& model_registry();
std::vector<std::string> model_names();
/// genzoo::Error listing the registered names when `name` is unknown.
const ModelInfo& find_model(const std::string& name);

/// Builds a model, checking it suits the data (e.g. binary models on binary
/// pixels) with a genzoo::Error that says how to fix the call.
ModulePtr create_model(const std::string& name, ModelContext& ctx);

}  // namespace genzoo
