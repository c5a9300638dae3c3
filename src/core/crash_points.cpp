#include "genzoo/core/crash_points.h"

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <string>

namespace genzoo {

namespace {

struct Target {
  std::string name;   // empty: no crash point armed
  long arrival = 1;   // which arrival at `name` dies
  long seen = 0;
};

Target& target() {
  static Target t = [] {
    Target t;
    const char* spec = std::getenv("GENZOO_CRASH_AT");
    if (!spec || !*spec) return t;
    std::string s = spec;
    auto hash = s.find('#');
    t.name = s.substr(0, hash);
    if (hash != std::string::npos) t.arrival = std::max(1L, std::strtol(s.c_str() + hash + 1, nullptr, 10));
    return t;
  }();
  return t;
}

}  // namespace

bool crash_point_armed(const char* name) {
  Target& t = target();
  if (t.name.empty() || t.name != name) return false;
  return ++t.seen == t.arrival;
}

void crash_point(const char* name) {
  if (crash_point_armed(name)) std::raise(SIGKILL);
}

}  // namespace genzoo
