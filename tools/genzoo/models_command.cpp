// genzoo models: the registry, printed from each model's metadata (no model
// is built, so the listing stays instant however large the models get).
#include <cstdio>

#include <algorithm>
#include <array>
#include <string>
#include <vector>

#include "commands.h"
#include "genzoo/core/error.h"
#include "genzoo/train/registry.h"

namespace genzoo::cli {

void add_models_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("models", "Registered models, their capabilities and the data they take");
  cmd->callback([] {
    // Columns as wide as their longest cell, the description last.
    std::vector<std::array<std::string, 6>> rows{{"name", "family", "capabilities", "data", "objective", "description"}};
    for (const auto& entry : model_registry()) {
      const ModelInfo& m = entry.model;
      std::vector<std::string> formats;
      for (auto f : m.accepts.formats) formats.emplace_back(pixel_format_names().name(f));
      if (m.accepts.labels) formats.emplace_back("+labels");
      rows.push_back({m.name, m.family, capability_list(m.capabilities), join(formats, ","), entry.objective.name,
                      m.description});
    }
    std::array<size_t, 6> width{};
    for (const auto& r : rows)
      for (size_t c = 0; c < r.size(); ++c) width[c] = std::max(width[c], r[c].size());
    for (const auto& r : rows) {
      for (size_t c = 0; c + 1 < r.size(); ++c) std::printf("%-*s  ", static_cast<int>(width[c]), r[c].c_str());
      std::printf("%s\n", r.back().c_str());
    }
  });
}

}  // namespace genzoo::cli
