#include "commands.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "genzoo/core/device.h"
#include "genzoo/core/files.h"
#include "genzoo/core/error.h"
#include "genzoo/core/paths.h"
#include "genzoo/data/image.h"

namespace genzoo::cli {

void add_threads_option(CLI::App* sub, int& threads) {
  sub->add_option("--threads", threads, "Intra-op threads (default: all cores, shared among this machine's workers of a distributed run)")
      ->check(CLI::NonNegativeNumber);
}

void apply_threads(int threads) { set_threads(threads); }

CLI::Option* add_checkpoint_option(CLI::App* sub, std::string& which) {
  return sub->add_option("--checkpoint", which,
                  "best: the best validation score (best.pt; the last checkpoint when the run has no "
                  "validation split) | last: the last checkpoint")
      ->check(CLI::IsMember({"best", "last"}))
      ->capture_default_str();
}

std::string checkpoint_name(const Run& run) {
  return std::filesystem::path(run.checkpoint_file).filename().string();
}

std::string describe_checkpoint(const Run& run) {
  std::string text = "checkpoint " + checkpoint_name(run) + ": epoch " + std::to_string(run.state.epoch) + ", step " +
                     std::to_string(run.state.global_step);
  if (checkpoint_name(run) == "best.pt") {
    char score[64];
    std::snprintf(score, sizeof score, "%.4f", run.state.best_score);
    text += ", best validation score " + std::string(score);
  }
  return text;
}

std::string find_recipe(const std::string& model, const std::string& dataset) {
  // "texture:brick" -> configs/MODEL-texture-brick.toml
  std::string name = dataset;
  std::replace(name.begin(), name.end(), ':', '-');
  std::string path = find_shipped_file("GENZOO_CONFIGS", "configs", "configs", model + "-" + name + ".toml");
  return file_exists(path) ? path : "";
}

}  // namespace genzoo::cli
