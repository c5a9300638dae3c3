#pragma once
// Errors a user can cause (bad name, malformed value, missing or corrupt file).
// The CLI turns every genzoo::Error into one line on stderr and exit status 2;
// anything else escaping is a bug.
#include <stdexcept>
#include <string>
#include <vector>

namespace genzoo {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

/// "a, b, c" — used to list the valid choices in error messages.
std::string join(const std::vector<std::string>& items, const std::string& sep = ", ");

}  // namespace genzoo
