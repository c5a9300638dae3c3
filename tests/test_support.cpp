#include "test_support.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>

extern char** environ;

namespace genzoo::testing {

namespace fs = std::filesystem;

TempDir::TempDir() {
  std::random_device rd;
  for (int attempt = 0; attempt < 100; ++attempt) {
    fs::path p = fs::temp_directory_path() / ("genzoo-test-" + std::to_string(rd()));
    std::error_code ec;
    if (fs::create_directory(p, ec)) {
      path_ = p.string();
      return;
    }
  }
  throw std::runtime_error("cannot create a temporary folder");
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

static std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

CliResult run_cli(const std::string& args) {
  TempDir tmp;
  std::string cmd = std::string("'") + GENZOO_CLI_PATH + "' " + args + " >'" + (tmp / "out") +
                    "' 2>'" + (tmp / "err") + "' </dev/null";
  int raw = std::system(cmd.c_str());
  CliResult r;
  r.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : 128 + WTERMSIG(raw);
  r.out = slurp(tmp / "out");
  r.err = slurp(tmp / "err");
  return r;
}

int spawn_cli(const std::string& args, const std::vector<std::string>& env, const std::string& log) {
  std::vector<std::string> argv_s{GENZOO_CLI_PATH};
  std::istringstream words(args);
  for (std::string w; words >> w;) argv_s.push_back(w);
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  auto name_of = [](const std::string& entry) { return entry.substr(0, entry.find('=')); };
  std::vector<std::string> env_s;
  for (char** e = environ; *e; ++e) {
    bool replaced = name_of(*e) == "OMP_NUM_THREADS";
    for (const auto& given : env) replaced = replaced || name_of(*e) == name_of(given);
    if (!replaced) env_s.emplace_back(*e);
  }
  for (const auto& given : env)
    if (given.find('=') + 1 < given.size()) env_s.push_back(given);
  env_s.emplace_back("OMP_NUM_THREADS=1");
  std::vector<char*> envp;
  for (auto& e : env_s) envp.push_back(e.data());
  envp.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw std::runtime_error("posix_spawn failed");
  return pid;
}

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

BrowserCheck open_in_browser(const std::string& html_path, const std::string& screenshot) {
  const char* env = std::getenv("GENZOO_CHROMIUM");
  const std::string chromium = env ? env : "/usr/bin/chromium";
  if (!fs::exists(chromium))
    throw std::runtime_error(chromium + " not found: scripts/setup --browser installs Debian's chromium");
  TempDir profile;  // its own profile, so parallel tests do not share one
  const std::string flags = "--headless --no-sandbox --disable-gpu --hide-scrollbars --no-first-run "
                            "--user-data-dir='" + profile.path() + "' --virtual-time-budget=30000 ";
  const std::string url = "'file://" + fs::absolute(html_path).string() + "'";
  const std::string dom_file = profile / "dom.html";
  std::string cmd = "timeout 120 '" + chromium + "' " + flags + "--dump-dom " + url + " >'" + dom_file + "' 2>'" +
                    (profile / "err") + "'";
  int raw = std::system(cmd.c_str());
  if (!WIFEXITED(raw) || WEXITSTATUS(raw) != 0)
    throw std::runtime_error("chromium --dump-dom failed: " + slurp(profile / "err"));
  if (!screenshot.empty()) {
    fs::create_directories(fs::path(screenshot).parent_path());
    cmd = "timeout 120 '" + chromium + "' " + flags + "--window-size=1280,2000 --screenshot='" + screenshot + "' " +
          url + " >/dev/null 2>&1";
    raw = std::system(cmd.c_str());
    if (!WIFEXITED(raw) || WEXITSTATUS(raw) != 0 || !fs::exists(screenshot))
      throw std::runtime_error("chromium --screenshot failed for " + html_path);
  }
  BrowserCheck c;
  c.dom = slurp(dom_file);
  const auto body = c.dom.find("<body");
  const std::string tag = body == std::string::npos ? "" : c.dom.substr(body, c.dom.find('>', body) - body);
  auto attribute = [&](const std::string& name) -> std::string {
    const auto at = tag.find(" " + name + "=\"");
    if (at == std::string::npos) return "\x01";
    const auto start = at + name.size() + 3;
    return tag.substr(start, tag.find('"', start) - start);
  };
  auto number = [&](const std::string& name) {
    const std::string v = attribute(name);
    return v == "\x01" ? -1 : std::atoi(v.c_str());
  };
  c.state = attribute("data-report-state");
  c.charts = number("data-charts");
  c.charts_drawn = number("data-charts-drawn");
  c.images = number("data-images");
  c.images_loaded = number("data-images-loaded");
  c.errors = number("data-errors");
  c.error_text = attribute("data-error-text");
  return c;
}

}  // namespace genzoo::testing
