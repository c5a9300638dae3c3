#include "genzoo/report/progress.h"

#include <cmath>
#include <cstdio>

namespace genzoo {

std::string format_duration(double s) {
  if (!std::isfinite(s) || s < 0) return "--:--";
  auto total = static_cast<long long>(s + 0.5);
  char buf[32];
  if (total >= 3600)
    std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", total / 3600, total / 60 % 60, total % 60);
  else
    std::snprintf(buf, sizeof buf, "%lld:%02lld", total / 60, total % 60);
  return buf;
}

Progress::Progress(bool tty) : tty_(tty), last_(Clock::now()) {}

Progress::~Progress() {
  if (dirty_) std::fputc('\n', stderr);
}

void Progress::update(const std::string& where, double fraction,
                      const std::vector<std::pair<std::string, double>>& figures, double rate, double eta,
                      bool force) {
  if (!force && seconds_since(last_) < (tty_ ? 0.2 : 10.0)) return;
  last_ = Clock::now();
  std::string stats;
  char buf[96];
  for (const auto& [name, value] : figures) {
    std::snprintf(buf, sizeof buf, "%s %.4g  ", name.c_str(), value);
    stats += buf;
  }
  std::snprintf(buf, sizeof buf, "%.0f ex/s  ETA %s", rate, format_duration(eta).c_str());
  stats += buf;
  if (tty_) {
    const int width = 24;
    int filled = fraction < 0 ? 0 : static_cast<int>(std::lround(fraction * width));
    std::string bar(static_cast<size_t>(filled), '#');
    bar.resize(width, '.');
    std::fprintf(stderr, "\r%s [%s] %3.0f%%  %s   ", where.c_str(), bar.c_str(), fraction < 0 ? 0.0 : 100 * fraction,
                 stats.c_str());
    dirty_ = true;
  } else {
    std::fprintf(stderr, "%s  %s\n", where.c_str(), stats.c_str());
  }
  std::fflush(stderr);
}

void Progress::line(const std::string& text) {
  if (dirty_) std::fputc('\n', stderr);
  dirty_ = false;
  std::fprintf(stderr, "%s\n", text.c_str());
  std::fflush(stderr);
}

}  // namespace genzoo
