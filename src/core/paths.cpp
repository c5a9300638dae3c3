#include "genzoo/core/paths.h"

#include <cstdlib>
#include <filesystem>
#include <vector>

namespace genzoo {

namespace fs = std::filesystem;

std::string find_shipped_file(const std::string& env_var, const std::string& share_subdir,
                              const std::string& source_subdir, const std::string& file) {
  std::vector<fs::path> dirs;
  if (const char* env = std::getenv(env_var.c_str())) dirs.emplace_back(env);
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) dirs.push_back(exe.parent_path().parent_path() / "share" / "genzoo" / share_subdir);
  dirs.push_back(fs::path(GENZOO_SOURCE_DIR) / source_subdir);
  for (const auto& d : dirs)
    if (fs::is_regular_file(d / file, ec)) return (d / file).string();
  return (dirs.back() / file).string();
}

}  // namespace genzoo
