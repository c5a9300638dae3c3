#pragma once
// Wall-clock intervals for progress lines and the seconds_* fields of reports.
#include <chrono>

namespace genzoo {

using Clock = std::chrono::steady_clock;

/// Seconds elapsed since `start`.
inline double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

}  // namespace genzoo
