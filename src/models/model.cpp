#include "genzoo/models/model.h"

#include <sstream>

#include "genzoo/core/error.h"
#include "genzoo/models/explicit/fvsbn.h"
#include "genzoo/models/explicit/independent.h"
#include "genzoo/models/explicit/made.h"
#include "genzoo/models/explicit/nade.h"

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


std::vector<std::string> capabilities(const ModulePtr& model) {
  std::vector<std::string> caps;
  if (as<Sampler>(model)) caps.push_back("sample");
  if (as<Density>(model)) caps.push_back("density");
  if (as<Completer>(model)) caps.push_back("complete");
  if (as<Energy>(model)) caps.push_back("energy");
  if (as<Latent>(model)) caps.push_back("latent");
  return caps;
}

const std::vector<ModelInfo>& model_registry() {
  static const std::vector<ModelInfo> registry = [] {
    std::vector<ModelInfo> r;
    r.push_back(independent_model_info());
    r.push_back(fvsbn_model_info());
    r.push_back(nade_model_info());
    r.push_back(made_model_info());
    return r;
  }();
  return registry;
}

std::vector<std::string> model_names() {
  std::vector<std::string> names;
  for (const auto& m : model_registry()) names.push_back(m.name);
  return names;
}

const ModelInfo& find_model(const std::string& name) {
  for (const auto& m : model_registry())
    if (m.name == name) return m;
  throw Error("unknown model '" + name + "' (choose from " + join(model_names()) + ")");
}

ModulePtr create_model(const std::string& name, ModelContext& ctx) {
  const ModelInfo& info = find_model(name);
  if (ctx.data.points && info.needs_binary)
    throw Error("model '" + name + "' models binary images, not 2-D points");
  if (info.needs_binary && !ctx.data.binary)
    throw Error("model '" + name +
                "' models binary pixels: add --binarize threshold|static|dynamic");
  try {
    return info.create(ctx);
  } catch (const c10::Error& e) {
    throw Error("model '" + name + "': " + e.what_without_backtrace());
  }
}

}  // namespace genzoo
