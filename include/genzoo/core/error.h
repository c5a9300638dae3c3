#pragma once
// Errors a user can cause (bad name, malformed value, missing or corrupt file).
// The CLI turns every genzoo::Error into one line on stderr and exit status 2;
// anything else escaping is a bug.
#include <stdexcept>
#include <string>
#include <vector>

namespace genzoo {

/// `s` on one line: line breaks and tabs become spaces, other control
/// bytes '?', trailing spaces go. Messages quote file contents (a chunk
/// name from a PNG, a parser's excerpt), which may hold any byte.
std::string one_line(std::string s);

class Error : public std::runtime_error {
 public:
  /// The message is one line, whatever it quotes.
  explicit Error(const std::string& message) : std::runtime_error(one_line(message)) {}
};

/// "a, b, c" — used to list the valid choices in error messages.
std::string join(const std::vector<std::string>& items, const std::string& sep = ", ");

}  // namespace genzoo
