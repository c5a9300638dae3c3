#pragma once
// Helpers shared by the tests: temporary folders and running the CLI.
#include <string>
#include <vector>

namespace genzoo::testing {

constexpr double kPi = 3.14159265358979323846;

/// A fresh empty folder under the system temp dir, removed on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

struct CliResult {
  int status = -1;      // exit status
  std::string out;      // stdout
  std::string err;      // stderr
};

/// Runs the built `genzoo` binary with `args` (a shell-quoted string).
CliResult run_cli(const std::string& args);

/// Starts the built `genzoo` binary with `args` (split on spaces; none may
/// hold one) in the background, stdout and stderr appended to `log`, stdin
/// from /dev/null, OMP_NUM_THREADS=1, and the environment of the tests with
/// each "NAME=VALUE" of `env` in force ("NAME=" removes NAME). Returns its pid.
int spawn_cli(const std::string& args, const std::vector<std::string>& env, const std::string& log);

/// What a page recorded on <body> after it loaded in headless Debian
/// chromium (genzoo/report/html.h): -1 where an attribute is missing.
struct BrowserCheck {
  std::string state;       // data-report-state ("drawn" when the page's checks ran)
  int charts = -1, charts_drawn = -1, images = -1, images_loaded = -1, errors = -1;
  std::string error_text;  // the errors the page caught, " | " between
  std::string dom;         // the whole DOM after load
};

/// Opens `html_path` in headless chromium, lets its scripts run, returns
/// what the page recorded, and saves a screenshot to `screenshot` (when
/// not empty). Throws when chromium is missing (scripts/setup --browser
/// installs it) or fails.
BrowserCheck open_in_browser(const std::string& html_path, const std::string& screenshot = "");

/// Writes bytes to a file (test fixtures).
void write_bytes(const std::string& path, const std::string& bytes);

}  // namespace genzoo::testing
