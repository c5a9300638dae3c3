// genzoo models: the registry with each model's capabilities.
#include <cstdio>

#include "commands.h"
#include "genzoo/core/error.h"
#include "genzoo/models/model.h"

namespace genzoo::cli {

void add_models_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("models", "Registered models and their capabilities");
  cmd->callback([] {
    std::printf("%-14s %-12s %-26s %-12s %s\n", "name", "family", "capabilities", "objective",
                "description");
    for (const auto& info : model_registry()) {
      // Capabilities are what the built module implements; build a small one.
      Config config;
      ModelContext ctx;
      ctx.config = &config;
      ctx.data.binary = true;
      auto model = info.create(ctx);
      std::printf("%-14s %-12s %-26s %-12s %s\n", info.name.c_str(), info.family.c_str(),
                  join(capabilities(model), ",").c_str(), info.objective.c_str(),
                  info.description.c_str());
    }
  });
}

}  // namespace genzoo::cli
