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
  sub->add_option("--threads", threads, "Intra-op threads (default: all cores)")
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

torch::Tensor run_image(const Run& run, const std::string& spec, const std::string& option) {
  const int64_t c = run.spec.channels, h = run.spec.height, w = run.spec.width;
  if (spec.rfind("test:", 0) == 0) {
    int64_t index = -1;
    try {
      size_t used = 0;
      index = std::stoll(spec.substr(5), &used);
      if (used != spec.size() - 5) index = -1;
    } catch (const std::exception&) {
      index = -1;
    }
    const int64_t n = run.data.test.size(0);
    if (index < 0 || index >= n)
      throw Error(option + " '" + spec + "': give test:INDEX with INDEX in [0, " + std::to_string(n) + ")");
    return run.data.test[index];
  }
  auto raw = read_image(spec);  // uint8 [C, H, W]
  if (raw.size(0) != c || raw.size(1) != h || raw.size(2) != w)
    throw Error(option + " '" + spec + "' is " + std::to_string(raw.size(0)) + "x" + std::to_string(raw.size(1)) +
                "x" + std::to_string(raw.size(2)) + " (CxHxW), the run's images are " + std::to_string(c) + "x" +
                std::to_string(h) + "x" + std::to_string(w));
  // The same pixel transform as the run's evaluation data (e.g. pixel > 127).
  return run.transform->for_eval(raw.unsqueeze(0), 1)[0];
}

std::string find_recipe(const std::string& model, const std::string& dataset) {
  // "texture:brick" -> configs/MODEL-texture-brick.toml
  std::string name = dataset;
  std::replace(name.begin(), name.end(), ':', '-');
  std::string path = find_shipped_file("GENZOO_CONFIGS", "configs", "configs", model + "-" + name + ".toml");
  return file_exists(path) ? path : "";
}

}  // namespace genzoo::cli
