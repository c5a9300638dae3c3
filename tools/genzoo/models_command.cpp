// genzoo models: the registry, printed from each model's metadata (no model
// is built, so the listing stays instant however large the models get).
#include <cstdio>

#include "commands.h"
#include "genzoo/core/error.h"
#include "genzoo/train/registry.h"

namespace genzoo::cli {

void add_models_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("models", "Registered models, their capabilities and the data they take");
  cmd->callback([] {
    std::printf("%-12s %-9s %-38s %-11s %-10s %s\n", "name", "family", "capabilities", "data", "objective",
                "description");
    for (const auto& entry : model_registry()) {
      const ModelInfo& m = entry.model;
      std::vector<std::string> formats;
      for (auto f : m.accepts.formats) formats.emplace_back(pixel_format_names().name(f));
      if (m.accepts.labels) formats.emplace_back("+labels");
      std::printf("%-12s %-9s %-38s %-11s %-10s %s\n", m.name.c_str(), m.family.c_str(),
                  capability_list(m.capabilities).c_str(), join(formats, ",").c_str(), entry.objective.name.c_str(),
                  m.description.c_str());
    }
  });
}

}  // namespace genzoo::cli
