#include "genzoo/models/model.h"

#include "genzoo/core/error.h"
#include "genzoo/models/explicit/independent.h"

namespace genzoo {

std::vector<std::string> capabilities(const ModulePtr& model) {
  std::vector<std::string> caps;
  if (as<Sampler>(model)) caps.push_back("sample");
  if (as<Density>(model)) caps.push_back("density");
  if (as<Energy>(model)) caps.push_back("energy");
  if (as<Latent>(model)) caps.push_back("latent");
  return caps;
}

const std::vector<ModelInfo>& model_registry() {
  static const std::vector<ModelInfo> registry = [] {
    std::vector<ModelInfo> r;
    r.push_back(independent_model_info());
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
