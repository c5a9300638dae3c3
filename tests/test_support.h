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

/// Writes bytes to a file (test fixtures).
void write_bytes(const std::string& path, const std::string& bytes);

}  // namespace genzoo::testing
