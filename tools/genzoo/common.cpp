#include "commands.h"
#include "genzoo/core/device.h"
#include "genzoo/core/files.h"
#include "genzoo/core/paths.h"

namespace genzoo::cli {

void add_threads_option(CLI::App* sub, int& threads) {
  sub->add_option("--threads", threads, "Intra-op threads (default: all cores)")
      ->check(CLI::NonNegativeNumber);
}

void apply_threads(int threads) { set_threads(threads); }

std::string find_recipe(const std::string& model, const std::string& dataset) {
  std::string path = find_shipped_file("GENZOO_CONFIGS", "configs", "configs", model + "-" + dataset + ".toml");
  return file_exists(path) ? path : "";
}

}  // namespace genzoo::cli
