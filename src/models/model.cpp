#include "genzoo/models/model.h"

#include <sstream>

#include <algorithm>

#include "genzoo/core/error.h"

namespace genzoo {

// Mirrors torch::nn::Module::load, which silently replaces a parameter by a
// stored tensor of another shape; here any mismatch is an error.
void load_module_checked(torch::nn::Module& module, torch::serialize::InputArchive& archive,
                         const std::string& prefix) {
  torch::NoGradGuard no_grad;
  auto load_tensor = [&](const std::string& name, torch::Tensor& target, bool is_buffer) {
    torch::Tensor stored;
    if (!archive.try_read(name, stored, is_buffer))
      throw Error("has no " + std::string(is_buffer ? "buffer" : "parameter") + " '" + prefix + name + "'");
    if (stored.sizes() != target.sizes() || stored.scalar_type() != target.scalar_type()) {
      std::ostringstream os;
      os << "stores '" << prefix << name << "' as " << stored.sizes() << " " << stored.scalar_type()
         << ", the model has " << target.sizes() << " " << target.scalar_type();
      throw Error(os.str());
    }
    target.copy_(stored);
  };
  for (auto& p : module.named_parameters(/*recurse=*/false)) load_tensor(p.key(), p.value(), false);
  for (auto& b : module.named_buffers(/*recurse=*/false)) load_tensor(b.key(), b.value(), true);
  for (const auto& child : module.named_children()) {
    torch::serialize::InputArchive child_archive;
    if (!archive.try_read(child.key(), child_archive))
      throw Error("has no submodule '" + prefix + child.key() + "'");
    load_module_checked(*child.value(), child_archive, prefix + child.key() + ".");
  }
}


const EnumNames<Capability>& capability_names() {
  static const EnumNames<Capability> names{{Capability::Sample, "sample"},   {Capability::Density, "density"},
                                           {Capability::Complete, "complete"}, {Capability::Energy, "energy"},
                                           {Capability::Latent, "latent"},   {Capability::Autoregressive, "autoregressive"},
                                           {Capability::Conditional, "conditional"}};
  return names;
}

bool has_capability(const Capabilities& caps, Capability c) {
  return std::find(caps.begin(), caps.end(), c) != caps.end();
}

std::string capability_list(const Capabilities& caps) {
  std::vector<std::string> names;
  for (auto c : caps) names.emplace_back(capability_names().name(c));
  return join(names, ",");
}

Capabilities implemented_capabilities(const ModulePtr& model) {
  Capabilities caps;
  if (as<Sampler>(model)) caps.push_back(Capability::Sample);
  if (as<Density>(model)) caps.push_back(Capability::Density);
  if (as<Completer>(model)) caps.push_back(Capability::Complete);
  if (as<Energy>(model)) caps.push_back(Capability::Energy);
  if (as<Latent>(model)) caps.push_back(Capability::Latent);
  if (as<Autoregressive>(model)) caps.push_back(Capability::Autoregressive);
  if (as<ClassConditional>(model)) caps.push_back(Capability::Conditional);
  return caps;
}

const EnumNames<PixelFormat>& pixel_format_names() {
  static const EnumNames<PixelFormat> names{{PixelFormat::Binary, "binary"},
                                            {PixelFormat::Levels256, "levels256"},
                                            {PixelFormat::Unit, "unit"},
                                            {PixelFormat::Symmetric, "symmetric"},
                                            {PixelFormat::Points, "points"}};
  return names;
}

namespace {

// What each format is, and the flags that give it.
const char* format_description(PixelFormat f) {
  switch (f) {
    case PixelFormat::Binary: return "binary pixels";
    case PixelFormat::Levels256: return "256 grey levels";
    case PixelFormat::Unit: return "grey pixels in [0,1]";
    case PixelFormat::Symmetric: return "grey pixels in [-1,1]";
    case PixelFormat::Points: return "2-D points";
  }
  return "?";
}

const char* format_fix(PixelFormat f) {
  switch (f) {
    case PixelFormat::Binary: return "add --binarize threshold|static|dynamic";
    case PixelFormat::Levels256: return "--set data.levels=256 (without --binarize)";
    case PixelFormat::Unit: return "leave out --binarize (data.scale = unit)";
    case PixelFormat::Symmetric: return "--set data.scale=symmetric (without --binarize)";
    case PixelFormat::Points: return "use a 2-D point dataset (ring8, grid25, moons, swissroll, checkerboard)";
  }
  return "?";
}

std::string size_text(int64_t h, int64_t w) { return std::to_string(h) + "x" + std::to_string(w); }

}  // namespace

std::string data_mismatch(const ModelInfo& info, const DataSpec& spec) {
  const auto& formats = info.accepts.formats;
  const std::string who = "model '" + info.name + "'";
  const bool wants_points = std::find(formats.begin(), formats.end(), PixelFormat::Points) != formats.end();
  const bool wants_images = std::any_of(formats.begin(), formats.end(), [](PixelFormat f) { return f != PixelFormat::Points; });
  if (spec.points() && !wants_points) return who + " models images, not 2-D points: use an image dataset";
  if (!spec.points() && !wants_images) return who + " models 2-D points, not images: " + format_fix(PixelFormat::Points);
  if (std::find(formats.begin(), formats.end(), spec.format) == formats.end()) {
    std::vector<std::string> what, fixes;
    for (auto f : formats) {
      if (f == PixelFormat::Points) continue;
      what.emplace_back(format_description(f));
      fixes.emplace_back(format_fix(f));
    }
    return who + " models " + join(what, " or ") + ": " + join(fixes, ", or ") + " (the data have " +
           format_description(spec.format) + ")";
  }
  if (info.accepts.labels && spec.classes < 2)
    return who + " is class-conditional: it needs a dataset with class labels (fashion-mnist, mnist-10k, " +
           "idx:IMAGES,LABELS)" + (spec.classes == 1 ? ", and this one has a single class" : ", and this one has none");
  if (spec.points()) return "";
  const auto& ch = info.accepts.channels;
  if (!ch.empty() && std::find(ch.begin(), ch.end(), spec.channels) == ch.end()) {
    std::vector<std::string> names;
    for (auto c : ch) names.push_back(std::to_string(c));
    return who + " needs images with " + join(names, " or ") + " channels, the data have " +
           std::to_string(spec.channels);
  }
  const auto& sizes = info.accepts.sizes;
  if (!sizes.empty() && std::find(sizes.begin(), sizes.end(), std::make_pair(spec.height, spec.width)) == sizes.end()) {
    std::vector<std::string> names;
    for (const auto& [h, w] : sizes) names.push_back(size_text(h, w));
    return who + " needs " + join(names, " or ") + " images, the data are " + size_text(spec.height, spec.width);
  }
  return "";
}

ModulePtr create_model(const ModelInfo& info, ModelContext& ctx) {
  std::string mismatch = data_mismatch(info, ctx.data);
  if (!mismatch.empty()) throw Error(mismatch);
  try {
    return info.create(ctx);
  } catch (const c10::Error& e) {
    throw Error("model '" + info.name + "': " + e.what_without_backtrace());
  }
}

torch::Tensor draw_samples(Sampler& sampler, int64_t n, int64_t chunk) {
  TORCH_CHECK(n >= 0 && chunk >= 1, "draw_samples: needs n >= 0 and chunk >= 1");
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> parts;
  for (int64_t i = 0; i < n; i += chunk) parts.push_back(sampler.sample(std::min(chunk, n - i)).detach());
  if (parts.empty()) return sampler.sample(0).detach();
  return parts.size() == 1 ? parts.front() : torch::cat(parts);
}

torch::Tensor draw_given(ClassConditional& model, const torch::Tensor& labels, int64_t chunk) {
  TORCH_CHECK(chunk >= 1 && labels.dim() == 1, "draw_given: needs labels [n] and chunk >= 1");
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> parts;
  for (int64_t i = 0; i < labels.size(0); i += chunk)
    parts.push_back(model.sample_given(labels.slice(0, i, std::min(i + chunk, labels.size(0)))).detach());
  if (parts.empty()) return model.sample_given(labels).detach();
  return parts.size() == 1 ? parts.front() : torch::cat(parts);
}

torch::Tensor draw_class_rows(ClassConditional& model, int64_t per_class, int64_t rows, int64_t chunk) {
  TORCH_CHECK(per_class >= 1 && rows >= 0 && rows <= model.classes(),
              "draw_class_rows: needs per_class >= 1 and rows in [0, classes]");
  const int64_t classes = rows == 0 ? model.classes() : rows;
  return draw_given(model, torch::arange(classes, torch::kLong).repeat_interleave(per_class), chunk);
}

torch::Tensor smoothed_log_class_frequencies(const torch::Tensor& labels, int64_t classes, torch::ScalarType dtype,
                                             const char* who) {
  torch::NoGradGuard no_grad;
  auto y = labels.to(torch::kLong).flatten();
  TORCH_CHECK(y.numel() > 0, who, ": no training labels to estimate the class prior from");
  TORCH_CHECK(y.min().item<int64_t>() >= 0 && y.max().item<int64_t>() < classes, who,
              ": training labels must be in [0, ", classes, ")");
  auto counts = torch::bincount(y, {}, classes).to(dtype) + 1;  // add-one
  return (counts / counts.sum()).log();                         // [classes]
}

}  // namespace genzoo
