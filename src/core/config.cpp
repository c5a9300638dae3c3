#include "genzoo/core/config.h"

#include <toml++/toml.h>

#include <cmath>
#include <fstream>
#include <sstream>

#include "genzoo/core/error.h"
#include "genzoo/core/files.h"

namespace genzoo {

namespace {

std::string describe(const ConfigValue& v) {
  return std::visit(
      [](const auto& x) -> std::string {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, bool>) return x ? "true" : "false";
        else if constexpr (std::is_same_v<T, std::string>) return "\"" + x + "\"";
        else {
          std::ostringstream os;
          os << x;
          return os.str();
        }
      },
      v);
}

// TOML text is UTF-8: a value that is not could be set but not written
// back readably (config.toml would not load on --resume).
bool valid_utf8(const std::string& s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    const int follow = c < 0x80 ? 0 : (c >> 5) == 0x6 ? 1 : (c >> 4) == 0xE ? 2 : (c >> 3) == 0x1E ? 3 : -1;
    if (follow < 0 || s.size() - i <= static_cast<size_t>(follow)) return false;  // a bad lead byte, or cut short
    uint32_t cp = follow == 0 ? c : c & (0x3F >> follow);
    for (int k = 1; k <= follow; ++k) {
      const auto d = static_cast<unsigned char>(s[i + k]);
      if ((d >> 6) != 0x2) return false;
      cp = (cp << 6) | (d & 0x3F);
    }
    // No overlong forms, no surrogates, nothing past U+10FFFF.
    if ((follow == 1 && cp < 0x80) || (follow == 2 && cp < 0x800) || (follow == 3 && cp < 0x10000) ||
        (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
      return false;
    i += 1 + static_cast<size_t>(follow);
  }
  return true;
}

// A key is dotted bare words: letters, digits, '_' and '-', no empty part.
bool valid_key(const std::string& key) {
  if (key.empty() || key.front() == '.' || key.back() == '.' || key.find("..") != std::string::npos) return false;
  for (char c : key)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-')) return false;
  return true;
}

void flatten(const toml::table& table, const std::string& prefix,
             std::map<std::string, ConfigValue>& out, const std::string& origin) {
  for (const auto& [k, node] : table) {
    std::string key = prefix.empty() ? std::string(k.str()) : prefix + "." + std::string(k.str());
    if (!valid_key(key))
      throw Error(origin + ": key '" + key + "' is not a config key (dotted words of letters, digits, '_' and '-')");
    if (const auto* sub = node.as_table()) {
      flatten(*sub, key, out, origin);
    } else if (auto b = node.value_exact<bool>()) {
      out[key] = *b;
    } else if (auto i = node.value_exact<int64_t>()) {
      out[key] = *i;
    } else if (auto d = node.value_exact<double>()) {
      out[key] = *d;
    } else if (auto s = node.value_exact<std::string>()) {
      out[key] = *s;
    } else {
      throw Error(origin + ": key '" + key +
                  "' has an unsupported type (use a number, bool or string)");
    }
  }
}

}  // namespace

Config Config::from_toml(const std::string& text, const std::string& origin) {
  Config cfg;
  try {
    toml::table table = toml::parse(text, origin);
    flatten(table, "", cfg.values_, origin);
  } catch (const toml::parse_error& e) {
    const auto& where = e.source().begin;
    throw Error(origin + ":" + std::to_string(where.line) + ": " + std::string(e.description()));
  }
  return cfg;
}

Config Config::from_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw Error("config file '" + path + "' cannot be read");
  std::stringstream ss;
  ss << in.rdbuf();
  return from_toml(ss.str(), path);
}

void Config::set_from_string(const std::string& assignment) {
  auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0)
    throw Error("--set '" + assignment + "': expected key=value");
  std::string key = assignment.substr(0, eq);
  std::string value = assignment.substr(eq + 1);
  if (!valid_utf8(value)) throw Error("--set '" + assignment + "': the value is not valid UTF-8");
  if (!valid_key(key))
    throw Error("--set '" + assignment + "': key '" + key +
                "' is not a config key (dotted words of letters, digits, '_' and '-')");
  // Read the value as TOML so numbers and booleans get their types; anything
  // that is not a TOML value is taken as a bare string.
  try {
    toml::table t = toml::parse("v = " + value);
    if (!t["v"].is_value() || t["v"].is_array() || t["v"].is_date() || t["v"].is_time() ||
        t["v"].is_date_time())
      throw Error("--set '" + assignment + "': the value must be a number, true/false or a string");
    std::map<std::string, ConfigValue> flat;
    flatten(t, "", flat, "--set " + key);
    values_[key] = flat.at("v");
  } catch (const toml::parse_error&) {
    values_[key] = value;
  }
}

void Config::set(const std::string& key, ConfigValue value) {
  if (!valid_key(key)) throw Error("'" + key + "' is not a config key (dotted words of letters, digits, '_' and '-')");
  if (const auto* text = std::get_if<std::string>(&value); text && !valid_utf8(*text))
    throw Error("config key '" + key + "': the value is not valid UTF-8");
  values_[key] = std::move(value);
}

void Config::merge(const Config& other) {
  for (const auto& [k, v] : other.values_) values_[k] = v;
}

bool Config::has(const std::string& key) const { return values_.count(key) > 0; }

const ConfigValue* Config::lookup(const std::string& key, const ConfigValue& fallback) {
  used_.insert(key);
  auto it = values_.find(key);
  if (it == values_.end()) it = values_.emplace(key, fallback).first;
  return &it->second;
}

double Config::get_double(const std::string& key, double fallback) {
  const ConfigValue* v = lookup(key, fallback);
  if (auto d = std::get_if<double>(v)) return *d;
  if (auto i = std::get_if<int64_t>(v)) return static_cast<double>(*i);
  throw Error("config key '" + key + "': expected a number, got " + describe(*v));
}

int64_t Config::get_int(const std::string& key, int64_t fallback) {
  const ConfigValue* v = lookup(key, fallback);
  if (auto i = std::get_if<int64_t>(v)) return *i;
  if (auto d = std::get_if<double>(v)) {
    // Only doubles that are whole and inside int64's range convert.
    if (std::isfinite(*d) && std::floor(*d) == *d && std::fabs(*d) < 9.2e18) return static_cast<int64_t>(*d);
  }
  throw Error("config key '" + key + "': expected an integer, got " + describe(*v));
}

bool Config::get_bool(const std::string& key, bool fallback) {
  const ConfigValue* v = lookup(key, fallback);
  if (auto b = std::get_if<bool>(v)) return *b;
  throw Error("config key '" + key + "': expected true or false, got " + describe(*v));
}

std::string Config::get_string(const std::string& key, const std::string& fallback) {
  const ConfigValue* v = lookup(key, fallback);
  if (auto s = std::get_if<std::string>(v)) return *s;
  throw Error("config key '" + key + "': expected a string, got " + describe(*v));
}

std::string Config::get_choice(const std::string& key, const std::string& fallback,
                               const std::vector<std::string>& choices) {
  std::string s = get_string(key, fallback);
  for (const auto& c : choices)
    if (c == s) return s;
  throw Error("config key '" + key + "': unknown value '" + s + "' (choose from " +
              join(choices) + ")");
}

void Config::check_all_used() const {
  std::vector<std::string> unknown;
  for (const auto& [k, v] : values_)
    if (!used_.count(k)) unknown.push_back(k);
  if (unknown.empty()) return;
  std::vector<std::string> known(used_.begin(), used_.end());
  throw Error("unknown config key" + std::string(unknown.size() > 1 ? "s " : " ") +
              join(unknown) + " (known keys: " + join(known) + ")");
}

std::string Config::to_toml() const {
  toml::table root;
  for (const auto& [key, value] : values_) {
    toml::table* table = &root;
    std::string rest = key;
    size_t dot;
    while ((dot = rest.find('.')) != std::string::npos) {
      std::string part = rest.substr(0, dot);
      rest = rest.substr(dot + 1);
      auto [it, inserted] = table->insert(part, toml::table{});
      table = it->second.as_table();
      if (!table) throw Error("config key '" + key + "' conflicts with a value at '" + part + "'");
    }
    std::visit([&](const auto& x) { table->insert_or_assign(rest, x); }, value);
  }
  std::ostringstream os;
  os << root << "\n";
  return os.str();
}

void Config::save(const std::string& path) const { write_file_atomic(path, to_toml()); }

}  // namespace genzoo
