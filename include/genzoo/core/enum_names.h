#pragma once
// One name table per enumerated option: the enum values and the names users
// write for them in configs and on the command line. Reading a config key
// goes through Config::get_enum, which compares strings once, when the
// option is read; code after that switches on the enum.
#include <initializer_list>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace genzoo {

template <typename E>
class EnumNames {
 public:
  EnumNames(std::initializer_list<std::pair<E, const char*>> entries) : entries_(entries) {}

  /// The name of `value`; "?" for a value missing from the table (a bug).
  const char* name(E value) const {
    for (const auto& [v, n] : entries_)
      if (v == value) return n;
    return "?";
  }

  std::optional<E> find(const std::string& name) const {
    for (const auto& [v, n] : entries_)
      if (name == n) return v;
    return std::nullopt;
  }

  /// Every name, in table order (for "choose from ..." messages).
  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const auto& e : entries_) out.emplace_back(e.second);
    return out;
  }

 private:
  std::vector<std::pair<E, const char*>> entries_;
};

}  // namespace genzoo
