#pragma once
// Progress of long work on stderr: a redrawn bar on a terminal, a plain line
// every few seconds otherwise (logs, CI), and durations as m:ss / h:mm:ss.
#include <string>
#include <utility>
#include <vector>

#include "genzoo/core/timer.h"

namespace genzoo {

/// "1:05", "2:03:04"; "--:--" when unknown (negative or not finite).
std::string format_duration(double seconds);

class Progress {
 public:
  /// `tty`: redraw one line in place (a terminal) instead of printing lines.
  explicit Progress(bool tty);
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  /// At most every 0.2 s on a terminal, every 10 s otherwise, unless
  /// `force`: "WHERE [####....] 40%  loss 1.23  950 ex/s  ETA 1:05".
  /// `fraction` in [0, 1] (< 0: unknown), `figures` the named values to
  /// show, `rate` examples per second, `eta` seconds (< 0: unknown).
  void update(const std::string& where, double fraction, const std::vector<std::pair<std::string, double>>& figures,
              double rate, double eta, bool force = false);

  /// A line of its own (ends a redrawn bar first).
  void line(const std::string& text);

 private:
  bool tty_;
  bool dirty_ = false;
  Clock::time_point last_;
};

}  // namespace genzoo
