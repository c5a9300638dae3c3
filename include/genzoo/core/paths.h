#pragma once
// Files genzoo ships (recipes, feature networks) are found in one order:
//   $ENV_VAR (a folder), <prefix>/share/genzoo/<subdir> next to the running
//   binary (an installed genzoo), then <source tree>/<source_subdir>.
#include <string>

namespace genzoo {

/// The first existing `<dir>/<file>` in that order; when none exists, the
/// source-tree path (so error messages can name where it was expected).
std::string find_shipped_file(const std::string& env_var, const std::string& share_subdir,
                              const std::string& source_subdir, const std::string& file);

}  // namespace genzoo
