#include <cstdlib>
#include <filesystem>

#include "commands.h"
#include "genzoo/core/device.h"

namespace genzoo::cli {

namespace fs = std::filesystem;

void add_threads_option(CLI::App* sub, int& threads) {
  sub->add_option("--threads", threads, "Intra-op threads (default: all cores)")
      ->check(CLI::NonNegativeNumber);
}

void apply_threads(int threads) { set_threads(threads); }

std::string find_recipe(const std::string& model, const std::string& dataset) {
  std::string file = model + "-" + dataset + ".toml";
  std::vector<fs::path> dirs;
  if (const char* env = std::getenv("GENZOO_CONFIGS")) dirs.emplace_back(env);
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) dirs.push_back(exe.parent_path().parent_path() / "share" / "genzoo" / "configs");
  dirs.push_back(fs::path(GENZOO_SOURCE_DIR) / "configs");
  for (const auto& d : dirs)
    if (fs::is_regular_file(d / file, ec)) return (d / file).string();
  return "";
}

}  // namespace genzoo::cli
