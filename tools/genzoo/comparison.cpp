// genzoo compare --models A,B,... --data D --time-limit S [--seeds N] --out DIR:
// trains every model at the same wall-clock budget (each its recipe for D,
// seeds 0..N-1), evaluates each run with one protocol, and writes
// DIR/results.json, DIR/results.csv and DIR/report.html. Training and
// evaluation run as child processes of this binary, so a model that crashes
// is recorded as failed while the others stand, and each one's peak memory
// is measured. A second call with the same DIR reuses what is finished and
// resumes a training that was interrupted.
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "commands.h"
#include "comparison.h"
#include "genzoo/core/config.h"
#include "genzoo/core/error.h"
#include "genzoo/core/files.h"
#include "genzoo/core/timer.h"
#include "genzoo/data/dataset.h"
#include "genzoo/report/comparison_report.h"
#include "genzoo/report/run_report.h"
#include "genzoo/train/registry.h"
#include "metric_table.h"

extern char** environ;

namespace genzoo::cli {

namespace {

namespace fs = std::filesystem;

struct ChildResult {
  int status = -1;        // exit status; 128 + signal when killed
  double seconds = 0;     // wall time
  double peak_mb = 0;     // peak resident memory of the child
};

// Runs this binary with `args`, stdout and stderr appended to `log`, and
// waits. The child dies with this process (PR_SET_PDEATHSIG), so a
// comparison that is stopped leaves no training running into its folders.
ChildResult run_self(const std::vector<std::string>& args, const std::string& log) {
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>("genzoo"));
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const int out = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (out < 0) throw Error("cannot write the log '" + log + "': " + std::strerror(errno));
  std::fflush(nullptr);
  const pid_t parent = getpid();
  const auto start = Clock::now();
  const pid_t pid = fork();
  if (pid < 0) {
    close(out);
    throw Error(std::string("cannot start a child process: ") + std::strerror(errno));
  }
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent) _exit(127);
    const int in = open("/dev/null", O_RDONLY);
    if (in < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0) _exit(127);
    execve("/proc/self/exe", argv.data(), environ);
    _exit(127);
  }
  close(out);
  int status = 0;
  struct rusage usage {};
  while (wait4(pid, &status, 0, &usage) < 0) {
    if (errno != EINTR) throw Error(std::string("waiting for a child failed: ") + std::strerror(errno));
  }
  ChildResult r;
  r.seconds = seconds_since(start);
  r.peak_mb = static_cast<double>(usage.ru_maxrss) / 1024.0;
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
  return r;
}

// The last non-empty line of a log: the one-line error of a failed child.
std::string last_line(const std::string& path) {
  std::string text;
  try {
    text = read_file(path);
  } catch (const Error&) {
    return "";
  }
  std::istringstream in(text);
  std::string line, last;
  while (std::getline(in, line))
    if (!line.empty()) last = line;
  return last;
}

// A budget as a command-line argument: 60, 2.5 (not 60.000000).
std::string seconds_arg(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.10g", s);
  return buf;
}

std::vector<std::string> split_list(const std::string& list) {
  std::vector<std::string> items;
  std::stringstream in(list);
  for (std::string item; std::getline(in, item, ',');)
    if (!item.empty()) items.push_back(item);
  return items;
}

// The protocol: every metric that applies, Parzen only where there is no
// density; eval leaves out (and says why) what a model cannot have.
std::string protocol_metrics(const ModelInfo& info) {
  std::string m = "nll,fid,kid,pr,ms_ssim,sharpness,speed,auroc,modes";
  if (!has_capability(info.capabilities, Capability::Density)) m += ",parzen";
  return m;
}

nlohmann::json read_json_or(const std::string& path, nlohmann::json fallback) {
  if (!file_exists(path)) return fallback;
  try {
    auto j = nlohmann::json::parse(read_file(path), nullptr, false);
    return j.is_discarded() ? fallback : j;
  } catch (const Error&) {
    return fallback;
  }
}

struct Entry {
  std::string model;          // registered name
  std::string recipe;         // MODEL@RECIPE.toml: the recipe instead of configs/MODEL-DATA.toml
  std::string given_run;      // an existing run folder given instead of a model name
  std::string label;          // unique in the comparison: model, model@recipe or the folder's name
  const ModelInfo* info = nullptr;
};

// Network evaluations in sequence to draw one sample: one per pixel for an
// autoregressive model, the Langevin steps of an energy model's sampler
// (model.sample_steps), else one pass.
int64_t sequential_steps(const ModelInfo& info, const std::string& run_dir, int64_t dims) {
  if (has_capability(info.capabilities, Capability::Autoregressive)) return dims;
  if (file_exists(run_dir + "/config.toml")) {
    Config config = Config::from_file(run_dir + "/config.toml");
    if (config.has("model.sample_steps")) return config.get_int("model.sample_steps", 1);
  }
  return 1;
}

// The settings a run's figures depend on; a folder made with others is not reused.
nlohmann::json settings_of(const CompareRunArgs& a) {
  return {{"data", a.data},
          {"time_limit_s", a.time_limit},
          {"samples", a.samples},
          {"ood", a.ood},
          {"importance_samples", a.importance_samples}};
}

std::string settings_text(const nlohmann::json& s) {
  std::string t;
  for (auto it = s.begin(); it != s.end(); ++it) t += (t.empty() ? "" : ", ") + it.key() + " " + it.value().dump();
  return t;
}

// One run of the comparison: train (or resume), then evaluate; its record
// is DIR/runs/NAME.json, rewritten after each phase.
nlohmann::json run_one(const CompareRunArgs& a, const Entry& e, int64_t seed, const std::string& name,
                       const std::string& progress, int64_t dims) {
  const std::string runs = a.out + "/runs";
  const std::string record_path = runs + "/" + name + ".json";
  nlohmann::json rec = read_json_or(record_path, nlohmann::json::object());
  if (!rec.is_object() || (rec.contains("status") && !rec["status"].is_string())) rec = nlohmann::json::object();
  const std::string dir = e.given_run.empty() ? runs + "/" + name : e.given_run;
  if (rec.contains("settings") && rec["settings"] != settings_of(a))
    throw Error("'" + a.out + "' holds " + name + " made with " + settings_text(rec["settings"]) + ", not " +
                settings_text(settings_of(a)) + ": use another --out");
  rec["settings"] = settings_of(a);
  rec["model"] = e.model;
  rec["label"] = e.label;
  rec["seed"] = seed;
  rec["run"] = dir;
  auto save = [&] { write_file_atomic(record_path, json_text(rec) + "\n"); };
  const std::string status = rec.value("status", std::string());
  if (status == "done") {
    std::fprintf(stderr, "%s %s: reused (%s)\n", progress.c_str(), name.c_str(), dir.c_str());
    rec["reused"] = true;
    return rec;
  }
  if (status == "failed" && !a.retry_failed) {
    std::fprintf(stderr, "%s %s: failed before (%s); --retry-failed runs it again\n", progress.c_str(), name.c_str(),
                 rec.value("error", std::string("no message")).c_str());
    return rec;
  }
  rec.erase("error");
  rec["reused"] = false;
  const std::string threads = std::to_string(a.threads);
  // Training.
  const bool trained = !e.given_run.empty() || run_finished(read_metrics_lines(dir + "/metrics.jsonl")) ||
                       rec.value("trained", false);
  if (!trained) {
    std::vector<std::string> args;
    // A folder with a config was started before (train --resume restarts
    // one stopped before its first checkpoint from step 0).
    const bool resume = file_exists(dir + "/config.toml");
    if (resume) {
      args = {"train", "--resume", "--out", dir, "--time-limit", seconds_arg(a.time_limit)};
    } else {
      args = {"train", e.model, "--data", a.data, "--out", dir, "--time-limit", seconds_arg(a.time_limit),
              "--seed", std::to_string(seed)};
      if (!e.recipe.empty()) args.insert(args.end(), {"--config", e.recipe});
    }
    if (a.threads > 0) args.insert(args.end(), {"--threads", threads});
    std::fprintf(stderr, "%s %s: %s for %g s\n", progress.c_str(), name.c_str(), resume ? "resuming" : "training",
                 a.time_limit);
    ChildResult r = run_self(args, runs + "/" + name + ".train.log");
    // A resumed run keeps the wall time of both parts.
    rec["train_wall_seconds"] = rec.value("train_wall_seconds", 0.0) + r.seconds;
    rec["train_peak_mb"] = std::max(rec.value("train_peak_mb", 0.0), r.peak_mb);
    rec["train_exit_status"] = r.status;
    // A divergence keeps the last good checkpoint: evaluated, and counted.
    rec["diverged"] = r.status == kExitDiverged;
    if (r.status != 0 && r.status != kExitDiverged) {
      rec["status"] = "failed";
      rec["error"] = "training exited with status " + std::to_string(r.status) + ": " +
                     last_line(runs + "/" + name + ".train.log");
      save();
      std::fprintf(stderr, "%s %s: FAILED: %s\n", progress.c_str(), name.c_str(), rec["error"].get<std::string>().c_str());
      return rec;
    }
    rec["trained"] = true;
    save();
  }
  // What training left: steps, time, rollbacks, warnings.
  const RunTally tally = tally_run(read_metrics_lines(dir + "/metrics.jsonl"));
  if (!rec.contains("diverged")) rec["diverged"] = false;
  rec["steps"] = tally.steps;
  rec["steps_per_sample"] = sequential_steps(*e.info, dir, dims);
  rec["train_seconds"] = tally.seconds;
  rec["rollbacks"] = tally.rollbacks;
  rec["warnings"] = tally.warnings;
  // Evaluation.
  std::vector<std::string> args = {"eval",    dir,       "--metrics", protocol_metrics(*e.info), "--skip-unavailable",
                                   "--fresh", "--samples", std::to_string(a.samples), "--json"};
  if (!a.ood.empty()) args.insert(args.end(), {"--ood", a.ood});
  // An importance-sampled density (vae, cvae) at the protocol's K.
  if (a.importance_samples > 0 && file_exists(dir + "/config.toml") &&
      Config::from_file(dir + "/config.toml").has("model.eval_samples"))
    args.insert(args.end(), {"--importance-samples", std::to_string(a.importance_samples)});
  if (a.threads > 0) args.insert(args.end(), {"--threads", threads});
  std::fprintf(stderr, "%s %s: evaluating (%lld samples)\n", progress.c_str(), name.c_str(),
               static_cast<long long>(a.samples));
  const std::string eval_log = runs + "/" + name + ".eval.log";
  if (file_exists(eval_log)) fs::remove(eval_log);
  ChildResult r = run_self(args, eval_log);
  rec["eval_seconds"] = r.seconds;
  rec["eval_peak_mb"] = r.peak_mb;
  if (r.status != 0) {
    rec["status"] = "failed";
    rec["error"] = "evaluation exited with status " + std::to_string(r.status) + ": " + last_line(eval_log);
    save();
    std::fprintf(stderr, "%s %s: FAILED: %s\n", progress.c_str(), name.c_str(), rec["error"].get<std::string>().c_str());
    return rec;
  }
  rec["metrics"] = read_json_or(dir + "/eval.json", nlohmann::json::object());
  rec["status"] = "done";
  save();
  return rec;
}

void write_csv(const std::string& path, const nlohmann::json& results) {
  std::vector<std::string> columns = {"model", "family", "seed", "status", "run"};
  for (const auto& c : comparison_csv_columns()) columns.push_back(c);
  std::string csv = join(columns, ",") + "\n";
  auto quote = [](const std::string& s) {
    if (s.find_first_of(",\"\n") == std::string::npos) return s;
    std::string q = "\"";
    for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
    return q + "\"";
  };
  for (const auto& m : results["models"])
    for (const auto& r : m["runs"]) {
      std::vector<std::string> cells = {m["model"].get<std::string>(), m["family"].get<std::string>(),
                                        r["seed"].dump(), r.value("status", std::string()),
                                        quote(r.value("run", std::string()))};
      for (const auto& c : comparison_csv_columns()) {
        const nlohmann::json* v = comparison_value(r, c);
        cells.push_back(!v ? "" : v->is_string() ? quote(v->get<std::string>()) : v->dump());
      }
      csv += join(cells, ",") + "\n";
    }
  write_file_atomic(path, csv);
}

}  // namespace

void run_comparison(const CompareRunArgs& a) {
  if (a.data.empty()) throw Error("compare --models needs --data DATASET");
  if (!(a.time_limit > 0)) throw Error("--time-limit must be > 0 seconds (the budget each model trains for)");
  if (a.seeds < 1) throw Error("--seeds must be at least 1");
  if (a.out.empty()) throw Error("compare --models needs --out DIR");
  // Every name checked before anything trains.
  std::vector<Entry> entries;
  std::set<std::string> labels, folders;
  for (const auto& item : split_list(a.models)) {
    Entry e;
    std::error_code ec;
    if (fs::is_directory(item, ec)) {
      // An existing run folder: taken as it is (one "seed").
      std::string path = fs::path(item).lexically_normal().string();
      while (path.size() > 1 && path.back() == '/') path.pop_back();
      if (!file_exists(path + "/config.toml")) throw Error("'" + item + "' is a folder but not a run (no config.toml)");
      if (!folders.insert(fs::absolute(path).lexically_normal().string()).second)
        throw Error("run folder '" + item + "' is listed twice");
      Config config = Config::from_file(path + "/config.toml");
      const std::string data = config.get_string("data.name", "");
      if (data != a.data)
        throw Error("run folder '" + item + "' trained on '" + data + "', not on --data '" + a.data + "'");
      e.model = config.get_string("model.name", "");
      e.given_run = path;
      e.label = "run:" + fs::path(path).filename().string();
    } else if (const auto at = item.find('@'); at != std::string::npos) {
      e.model = item.substr(0, at);
      e.recipe = item.substr(at + 1);
      if (!file_exists(e.recipe)) throw Error("recipe '" + e.recipe + "' of '" + item + "' does not exist");
      e.label = e.model + "@" + fs::path(e.recipe).stem().string();
    } else {
      e.model = item;
      e.label = item;
    }
    e.info = &find_model(e.model).model;
    if (!labels.insert(e.label).second)
      throw Error("'" + e.label + "' is listed twice in --models (a run folder's name must differ from the others)");
    entries.push_back(e);
  }
  if (entries.empty()) throw Error("--models '" + a.models + "' names no model");
  // An unknown or missing dataset is named now, not after the first model.
  const int64_t dims = load_dataset(a.data).dims();
  if (!a.ood.empty() && a.ood != "flipped" && a.ood != "noise") load_dataset(a.ood);
  // A folder made with other settings is not mixed into this comparison.
  if (file_exists(a.out + "/results.json")) {
    auto old = read_json_or(a.out + "/results.json", nlohmann::json::object());
    if (old.is_object() && old.contains("settings") && old["settings"] != settings_of(a))
      throw Error("'" + a.out + "' holds a comparison made with " + settings_text(old["settings"]) + ", not " +
                  settings_text(settings_of(a)) + ": use another --out");
  }
  ensure_dir(a.out + "/runs");
  // Every evaluation scores the same test split: its features are
  // extracted once and kept for the others.
  setenv("GENZOO_FEATURE_CACHE", (a.out + "/feature-cache").c_str(), 1);
  nlohmann::json results{{"settings", settings_of(a)},
                         {"data", a.data},
                         {"time_limit_s", a.time_limit},
                         {"seeds", a.seeds},
                         {"samples", a.samples},
                         {"ood", a.ood},
                         {"importance_samples", a.importance_samples},
                         {"models", nlohmann::json::array()}};
  const auto start = Clock::now();
  int done = 0;
  size_t total = 0;
  for (const auto& e : entries) total += e.given_run.empty() ? static_cast<size_t>(a.seeds) : 1;
  for (const auto& e : entries) {
    nlohmann::json m{{"model", e.model},
                     {"label", e.label},
                     {"recipe", e.recipe},
                     {"family", e.info->family},
                     {"capabilities", capability_list(e.info->capabilities)},
                     {"runs", nlohmann::json::array()}};
    const int64_t seeds = e.given_run.empty() ? a.seeds : 1;
    for (int64_t s = 0; s < seeds; ++s) {
      std::string name = e.given_run.empty() ? e.label + "-s" + std::to_string(s) : e.label;
      for (char& c : name)
        if (c == '@' || c == ':' || c == '/') c = '_';
      const std::string progress = "[" + std::to_string(++done) + "/" + std::to_string(total) + "]";
      try {
        m["runs"].push_back(run_one(a, e, s, name, progress, dims));
      } catch (const nlohmann::json::exception& ex) {
        throw Error("the record " + a.out + "/runs/" + name + ".json or the run's files hold a value of the wrong type (" +
                    ex.what() + "): remove the record to start that run afresh");
      }
    }
    results["models"].push_back(m);
    // After each model, so an interrupted comparison still leaves a table.
    summarise_comparison(results);
    write_file_atomic(a.out + "/results.json", json_text(results) + "\n");
    write_csv(a.out + "/results.csv", results);
  }
  results["wall_seconds"] = seconds_since(start);
  write_file_atomic(a.out + "/results.json", json_text(results) + "\n");
  HtmlPage page = comparison_report(a.out);
  write_file_atomic(a.out + "/report.html", page.render(page.charts() > 0 ? charting_library() : std::string()));
  std::printf("%s\n", comparison_text(results).c_str());
  std::printf("%s/report.html\n", a.out.c_str());
}

}  // namespace genzoo::cli
