#pragma once
// Run configuration: a flat map from dotted keys ("optim.lr") to typed values,
// read from TOML, overridden by `--set key=value`, and written back resolved.
//
// Reading a key with a default records the default, so the config.toml saved
// in a run folder lists every value the run actually used. Keys that were set
// but never read are reported by check_all_used(): a misspelt `--set` key is
// an error naming the keys that exist, not a silent no-op.
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include "genzoo/core/enum_names.h"

namespace genzoo {

using ConfigValue = std::variant<bool, int64_t, double, std::string>;

class Config {
 public:
  Config() = default;

  /// Parses TOML text; `origin` names the source in error messages.
  static Config from_toml(const std::string& text, const std::string& origin);
  /// Reads a TOML file; a missing or malformed file is a genzoo::Error.
  static Config from_file(const std::string& path);

  /// Applies "key=value"; the value is read as a TOML value (number, bool,
  /// quoted string), falling back to a bare string.
  void set_from_string(const std::string& assignment);
  void set(const std::string& key, ConfigValue value);
  /// Overlays every key of `other` onto this config.
  void merge(const Config& other);

  bool has(const std::string& key) const;

  double get_double(const std::string& key, double fallback);
  int64_t get_int(const std::string& key, int64_t fallback);
  bool get_bool(const std::string& key, bool fallback);
  std::string get_string(const std::string& key, const std::string& fallback);
  /// A string that must be one of `choices`.
  std::string get_choice(const std::string& key, const std::string& fallback,
                         const std::vector<std::string>& choices);
  /// An enumerated option: the name stored under `key` (default: the name
  /// of `fallback`) looked up in `names`; an unknown name is a genzoo::Error
  /// listing the choices.
  template <typename E>
  E get_enum(const std::string& key, E fallback, const EnumNames<E>& names) {
    return *names.find(get_choice(key, names.name(fallback), names.names()));
  }

  /// Throws genzoo::Error if a key was set but no component ever read it.
  void check_all_used() const;

  /// Resolved config as TOML (nested tables for dotted keys).
  std::string to_toml() const;
  void save(const std::string& path) const;

  const std::map<std::string, ConfigValue>& values() const { return values_; }

 private:
  const ConfigValue* lookup(const std::string& key, const ConfigValue& fallback);

  std::map<std::string, ConfigValue> values_;
  std::set<std::string> used_;
};

}  // namespace genzoo
