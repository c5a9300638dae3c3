// Crash safety of a run folder: `genzoo train` killed by SIGKILL at twenty
// moments (at random times, and at each crash point inside a checkpoint, a
// best.pt, a sample grid and a metrics line) and resumed after each kill
// ends with the very parameters, best.pt, sample grids and metrics lines of
// a run that was never interrupted; and a write that fails for want of
// space (or on a read-only folder) ends with one line and exit status 2,
// the earlier results intact.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <thread>

#include "genzoo/core/error.h"
#include "genzoo/core/files.h"
#include "genzoo/data/idx.h"
#include "genzoo/train/checkpoint.h"
#include "genzoo/train/run.h"
#include "test_support.h"

namespace genzoo {
namespace {

namespace fs = std::filesystem;
using testing::run_cli;

// Starts the CLI with `args`, GENZOO_CRASH_AT = crash_at when non-empty,
// output appended to `log`; returns its pid.
pid_t spawn_cli(const std::string& args, const std::string& crash_at, const std::string& log) {
  return testing::spawn_cli(args, {"GENZOO_CRASH_AT=" + crash_at}, log);
}

struct Ended {
  bool killed = false;  // by SIGKILL
  int status = -1;      // exit status otherwise
};

Ended wait_for(pid_t pid) {
  int raw = 0;
  while (waitpid(pid, &raw, 0) < 0 && errno == EINTR) {
  }
  Ended e;
  e.killed = WIFSIGNALED(raw) && WTERMSIG(raw) == SIGKILL;
  e.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  return e;
}

std::vector<nlohmann::json> metrics_lines(const std::string& run, std::string* torn = nullptr) {
  std::vector<nlohmann::json> lines;
  std::istringstream in(read_file(run + "/metrics.jsonl"));
  for (std::string line; std::getline(in, line);) {
    try {
      lines.push_back(nlohmann::json::parse(line));
    } catch (const nlohmann::json::exception&) {
      if (torn) *torn = line;
      lines.push_back(nullptr);
    }
  }
  return lines;
}

// The newest step a run has logged (0 before its first line).
int64_t logged_step(const std::string& run) {
  int64_t step = 0;
  try {
    for (const auto& j : metrics_lines(run))
      if (j.is_object() && j.contains("step") && j["step"].is_number_integer())
        step = std::max(step, j["step"].get<int64_t>());
  } catch (const Error&) {
    // Not written yet.
  }
  return step;
}

// What a line says about training, without wall-clock figures.
nlohmann::json without_timing(nlohmann::json j) {
  j.erase("elapsed_s");
  j.erase("examples_per_s");
  return j;
}

void expect_same_tensors(torch::nn::Module& a, torch::nn::Module& b, const std::string& what) {
  auto pa = a.named_parameters(), pb = b.named_parameters();
  ASSERT_EQ(pa.size(), pb.size()) << what;
  for (const auto& p : pa) {
    const auto* q = pb.find(p.key());
    ASSERT_NE(q, nullptr) << what << ": " << p.key();
    EXPECT_TRUE(torch::equal(p.value(), *q)) << what << ": parameter " << p.key() << " differs";
  }
  auto ba = a.named_buffers(), bb = b.named_buffers();
  ASSERT_EQ(ba.size(), bb.size()) << what;
  for (const auto& p : ba) {
    const auto* q = bb.find(p.key());
    ASSERT_NE(q, nullptr) << what << ": " << p.key();
    EXPECT_TRUE(torch::equal(p.value(), *q)) << what << ": buffer " << p.key() << " differs";
  }
}

std::map<std::string, std::string> sample_grids(const std::string& run) {
  std::map<std::string, std::string> grids;
  if (!fs::is_directory(run + "/samples")) return grids;
  for (const auto& e : fs::directory_iterator(run + "/samples"))
    if (e.path().extension() == ".png") grids[e.path().filename().string()] = read_file(e.path().string());
  return grids;
}

class Crash : public ::testing::Test {
 protected:
  void SetUp() override {
    // 120 grey 8x8 images of a bright bar at 12 positions and 2 widths.
    auto imgs = torch::zeros({120, 8, 8}, torch::kUInt8);
    for (int64_t i = 0; i < 120; ++i)
      imgs[i].slice(0, i % 6, i % 6 + 2 + (i / 6) % 2).slice(1, (i / 12) % 5, (i / 12) % 5 + 3).fill_(220);
    write_idx(dir / "bars.idx", imgs);
    data = "idx:" + (dir / "bars.idx");
  }

  // NADE with a validation split (best.pt), a sample grid every epoch and a
  // checkpoint after every step, so that writes fill most of the run.
  std::string train_args(const std::string& out, int64_t steps) const {
    return "train nade --data " + data + " --binarize threshold --out " + out + " --steps " + std::to_string(steps) +
           " --threads 1 --set train.batch_size=10 --set train.validation=20 --set train.sample_every=1"
           " --set train.sample_count=4 --set train.checkpoint_seconds=0.000001 --set train.log_every=1 --set optim.name=sgd"
           " --set optim.lr=0.05 --set model.hidden=16";
  }
  std::string resume_args(const std::string& out, int64_t steps) const {
    return "train --resume --out " + out + " --steps " + std::to_string(steps) + " --threads 1";
  }

  testing::TempDir dir;
  std::string data;
};

TEST_F(Crash, KilledTwentyTimesARunEndsAsIfNeverInterrupted) {
  constexpr int64_t kSteps = 400;  // 9 steps an epoch (88 training images): 44 epochs
  const std::string a = dir / "a", b = dir / "b", log = dir / "b.log";
  // The uninterrupted run, and how long a start takes (a one-step run).
  const auto t0 = std::chrono::steady_clock::now();
  auto r = run_cli(train_args(dir / "one", 1));
  ASSERT_EQ(r.status, 0) << r.err;
  const auto t1 = std::chrono::steady_clock::now();
  r = run_cli(train_args(a, kSteps));
  ASSERT_EQ(r.status, 0) << r.err;
  const auto t2 = std::chrono::steady_clock::now();
  const double startup_ms = std::chrono::duration<double, std::milli>(t1 - t0).count();
  const double per_step_ms =
      std::max(0.1, (std::chrono::duration<double, std::milli>(t2 - t1).count() - startup_ms) / kSteps);

  // Crash points in turn on even attempts; best.pt is written only while
  // validation improves, so its point comes in the first half only.
  const std::vector<std::string> early = {"checkpoint.tmp_written", "checkpoint.prev_linked", "best.tmp_written",
                                          "file.tmp_written", "metrics.half_line"};
  const std::vector<std::string> late = {"checkpoint.tmp_written", "checkpoint.prev_linked", "file.tmp_written",
                                         "metrics.half_line"};
  std::mt19937 rng(20261206);
  int kills = 0, by_point = 0, by_timer = 0;
  int64_t last_step = 0;
  bool finished = false;
  for (int attempt = 0; attempt < 20 && !finished; ++attempt) {
    const bool first = attempt == 0;
    const bool at_point = attempt % 2 == 0;  // the first too: a run must exist before timed kills
    std::string crash_at;
    if (at_point) {
      const auto& points = attempt < 10 ? early : late;
      const std::string& point = points[(attempt / 2) % points.size()];
      // Each kill may let the run move on a bounded number of steps, so
      // that twenty of them never reach its end, however fast or slow the
      // machine is: up to 12 checkpoints or log lines (a step each), 3
      // sample grids (an epoch each) and, while validation improves, 2 best.pt.
      const int most = point == "best.tmp_written" ? 1 : point == "file.tmp_written" ? 3 : 12;
      // (Not the first run's first checkpoint: that one must exist.)
      crash_at = point + "#" + std::to_string(std::uniform_int_distribution<int>(first ? 2 : 1, std::max(most, 2))(rng));
    }
    const pid_t pid = spawn_cli(first ? train_args(b, kSteps) : resume_args(b, kSteps), crash_at, log);
    if (!at_point) {
      // Anywhere from the start-up to half of what remains: the run never
      // gets to its end before the twentieth kill.
      // The timing estimate can be off when other work loads the machine,
      // so the kill also comes as soon as the log shows 10 steps more.
      const double remaining_ms = static_cast<double>(kSteps - last_step) * per_step_ms;
      const int most = static_cast<int>(startup_ms + 0.5 * remaining_ms);
      const auto deadline = std::chrono::steady_clock::now() +
                            std::chrono::milliseconds(std::uniform_int_distribution<int>(20, most)(rng));
      while (std::chrono::steady_clock::now() < deadline && logged_step(b) < last_step + 10)
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
      ::kill(pid, SIGKILL);
    }
    const Ended e = wait_for(pid);
    if (!e.killed) {
      ASSERT_EQ(e.status, 0) << "the run failed (" << crash_at << "): see\n" << read_file(log);
      finished = true;
      break;
    }
    ++kills;
    (at_point ? by_point : by_timer)++;
    SCOPED_TRACE("kill " + std::to_string(kills) + (at_point ? " at " + crash_at : " by timer"));
    // Whatever the moment, the folder holds a loadable last checkpoint,
    // never behind the one before the kill.
    ASSERT_TRUE(fs::exists(checkpoint_path(b)));
    genzoo::Run last = open_run(b, "last");
    EXPECT_GE(last.state.global_step, last_step);
    last_step = last.state.global_step;
    if (fs::exists(best_checkpoint_path(b))) EXPECT_NO_THROW(open_run(b, "best"));
    // Every line but the last parses. The last may be torn: injected, or
    // (rarely) a write that a kill cut between two memory pages; the next
    // resume removes it, which the end of the test checks.
    auto lines = metrics_lines(b);
    for (size_t i = 0; i + 1 < lines.size(); ++i) EXPECT_FALSE(lines[i].is_null()) << "line " << i + 1 << " torn";
  }
  // Then to the end, uninterrupted.
  if (!finished) {
    auto done = run_cli(resume_args(b, kSteps));
    ASSERT_EQ(done.status, 0) << done.err;
  }
  EXPECT_EQ(kills, 20) << "the run ended before twenty kills (" << by_point << " at crash points, " << by_timer
                       << " by timer)";
  EXPECT_EQ(by_timer, 10);

  // The same parameters, bit for bit, in the last checkpoint and in best.pt.
  genzoo::Run ra = open_run(a, "last"), rb = open_run(b, "last");
  EXPECT_EQ(ra.state.global_step, kSteps);
  EXPECT_EQ(rb.state.global_step, kSteps);
  expect_same_tensors(*ra.model, *rb.model, "checkpoint.pt");
  genzoo::Run ba = open_run(a, "best"), bb = open_run(b, "best");
  EXPECT_EQ(ba.checkpoint_file, best_checkpoint_path(a));
  EXPECT_EQ(ba.state.best_step, bb.state.best_step);
  expect_same_tensors(*ba.model, *bb.model, "best.pt");
  // The same sample grids, byte for byte.
  auto la = metrics_lines(a), lb = metrics_lines(b);
  auto ga = sample_grids(a), gb = sample_grids(b);
  const auto epochs = std::count_if(la.begin(), la.end(), [](const auto& j) { return j["event"] == "epoch"; });
  EXPECT_GE(epochs, 40);
  EXPECT_EQ(ga.size(), static_cast<size_t>(epochs + 1));  // one per epoch and the final one
  EXPECT_TRUE(ga == gb) << ga.size() << " grids against " << gb.size();
  // The same metrics lines in the same order, once each, besides the
  // "resumed" lines; every line parses.
  std::vector<nlohmann::json> kept;
  int resumed = 0;
  for (const auto& j : lb) {
    ASSERT_FALSE(j.is_null()) << "a torn line survived the resumes";
    if (j.value("event", "") == "resumed") {
      ++resumed;
      continue;
    }
    kept.push_back(without_timing(j));
  }
  // A resume's own line goes when a kill comes before its next checkpoint.
  EXPECT_GE(resumed, 1);
  EXPECT_LE(resumed, kills);
  ASSERT_EQ(kept.size(), la.size());
  for (size_t i = 0; i < la.size(); ++i) EXPECT_EQ(kept[i], without_timing(la[i])) << "line " << i;
}

TEST_F(Crash, AResumeCutsTheLinesOfStepsItDoesAgainAndSaysSo) {
  const std::string run = dir / "run";
  ASSERT_EQ(run_cli(train_args(run, 25)).status, 0);
  // Killed as it writes its fourth line (half of it: a torn line).
  setenv("GENZOO_CRASH_AT", "metrics.half_line#4", 1);
  auto r = run_cli(resume_args(run, 40));
  unsetenv("GENZOO_CRASH_AT");
  ASSERT_EQ(r.status, 128 + SIGKILL) << r.err;
  const int64_t step = open_run(run, "last").state.global_step;
  auto before = metrics_lines(run);
  ASSERT_TRUE(before.back().is_null());
  r = run_cli(resume_args(run, 40));
  ASSERT_EQ(r.status, 0) << r.err;
  auto after = metrics_lines(run);
  int64_t last_step = -1;
  bool saw_resume = false;
  for (const auto& j : after) {
    ASSERT_FALSE(j.is_null());
    if (j["event"] == "resumed") {
      if (j["step"].get<int64_t>() == step) {
        saw_resume = true;
        EXPECT_GE(j["removed_lines"].get<int64_t>(), 1);  // the torn line at least
      }
      last_step = j["step"].get<int64_t>();
      continue;
    }
    if (j["event"] == "step") {
      EXPECT_GT(j["step"].get<int64_t>(), last_step) << j.dump();  // no step logged twice
      last_step = j["step"].get<int64_t>();
    }
  }
  EXPECT_TRUE(saw_resume);
  EXPECT_EQ(last_step, 40);
}

TEST_F(Crash, ARunKilledBeforeItsFirstCheckpointResumesFromTheStart) {
  const std::string run = dir / "run", ref = dir / "ref";
  ASSERT_EQ(run_cli(train_args(ref, 12)).status, 0);
  // The config is written; the step-0 checkpoint is not.
  setenv("GENZOO_CRASH_AT", "checkpoint.tmp_written#1", 1);
  auto r = run_cli(train_args(run, 12));
  unsetenv("GENZOO_CRASH_AT");
  ASSERT_EQ(r.status, 128 + SIGKILL) << r.err;
  ASSERT_TRUE(fs::exists(run + "/config.toml"));
  ASSERT_FALSE(fs::exists(checkpoint_path(run)));
  r = run_cli(resume_args(run, 12));
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.err.find("before its first checkpoint"), std::string::npos) << r.err;
  genzoo::Run a = open_run(ref, "last"), b = open_run(run, "last");
  expect_same_tensors(*a.model, *b.model, "checkpoint.pt");
}

// --- Writes that fail -------------------------------------------------------

// One line naming the file, exit status 2.
void expect_one_line_error(const testing::CliResult& r, const std::string& names) {
  EXPECT_EQ(r.status, 2) << r.err;
  auto last = r.err.rfind('\n', r.err.size() - 2);
  std::string line = r.err.substr(last == std::string::npos ? 0 : last + 1);
  EXPECT_EQ(line.rfind("genzoo: ", 0), 0u) << r.err;
  size_t errors = 0;
  for (size_t at = 0; (at = r.err.find("genzoo: ", at)) != std::string::npos; ++at) ++errors;
  EXPECT_EQ(errors, 1u) << r.err;
  EXPECT_NE(line.find(names), std::string::npos) << r.err;
}

// A file's temporary twin made a link to /dev/full: every write to it fails
// with "no space left on device", as on a full disk, with no privileges.
void fill_disk_for(const std::string& path) {
  fs::remove(path + ".tmp");
  fs::create_symlink("/dev/full", path + ".tmp");
}

TEST_F(Crash, ACheckpointThatCannotBeWrittenStopsTheRunAndKeepsThePreviousOne) {
  const std::string run = dir / "run";
  ASSERT_EQ(run_cli(train_args(run, 10)).status, 0);
  const std::string before = read_file(checkpoint_path(run));
  const std::string best_before = read_file(best_checkpoint_path(run));
  fill_disk_for(checkpoint_path(run));
  auto r = run_cli(resume_args(run, 20));
  expect_one_line_error(r, "checkpoint.pt");
  EXPECT_EQ(read_file(checkpoint_path(run)), before);  // untouched, and it loads
  EXPECT_EQ(read_file(best_checkpoint_path(run)), best_before);
  EXPECT_EQ(open_run(run, "last").state.global_step, 10);
  // Space again: the run resumes from it and ends as an uninterrupted one.
  fs::remove(checkpoint_path(run) + ".tmp");
  ASSERT_EQ(run_cli(resume_args(run, 20)).status, 0);
  const std::string ref = dir / "ref";
  ASSERT_EQ(run_cli(train_args(ref, 20)).status, 0);
  genzoo::Run a = open_run(ref, "last"), b = open_run(run, "last");
  expect_same_tensors(*a.model, *b.model, "checkpoint.pt");
}

TEST_F(Crash, BestPtSampleGridsAndEvalJsonThatCannotBeWrittenFailInOneLineAndKeepTheirOldVersions) {
  const std::string run = dir / "run";
  ASSERT_EQ(run_cli(train_args(run, 10)).status, 0);
  // best.pt: the first improvement after step 10 cannot be written.
  const std::string best = read_file(best_checkpoint_path(run));
  fill_disk_for(best_checkpoint_path(run));
  auto r = run_cli(resume_args(run, 60));
  expect_one_line_error(r, "best.pt");
  EXPECT_EQ(read_file(best_checkpoint_path(run)), best);
  EXPECT_NO_THROW(open_run(run, "best"));
  EXPECT_NO_THROW(open_run(run, "last"));
  fs::remove(best_checkpoint_path(run) + ".tmp");

  // A sample grid: the epoch's checkpoint is written first and stays.
  const int64_t epoch = open_run(run, "last").state.epoch;
  char name[64];
  std::snprintf(name, sizeof name, "/samples/epoch_%04lld.png", static_cast<long long>(epoch + 1));
  fill_disk_for(run + name);
  r = run_cli(resume_args(run, 60));
  expect_one_line_error(r, "epoch_");
  EXPECT_FALSE(fs::exists(run + name));
  const TrainerState kept = open_run(run, "last").state;  // the epoch's checkpoint was written
  EXPECT_EQ(kept.epoch, epoch + 1);
  EXPECT_EQ(kept.batch_in_epoch, 0);
  fs::remove(run + name + ".tmp");
  // Resumed with space, the missing grid is drawn.
  ASSERT_EQ(run_cli(resume_args(run, 60)).status, 0);
  EXPECT_TRUE(fs::exists(run + name));

  // eval.json: the previous one stays.
  ASSERT_EQ(run_cli("eval " + run + " --metrics nll --threads 1").status, 0);
  const std::string eval_before = read_file(run + "/eval.json");
  fill_disk_for(run + "/eval.json");
  r = run_cli("eval " + run + " --metrics nll,speed --threads 1");
  expect_one_line_error(r, "eval.json");
  EXPECT_EQ(read_file(run + "/eval.json"), eval_before);
}

// A real full disk and a read-only folder: a small tmpfs, which needs the
// privilege to mount (root, as in CI); skipped without it.
class MountedFolder {
 public:
  explicit MountedFolder(const std::string& dir, const std::string& size) : dir_(dir) {
    fs::create_directories(dir);
    mounted_ = ::mount("tmpfs", dir.c_str(), "tmpfs", 0, ("size=" + size).c_str()) == 0;
  }
  ~MountedFolder() {
    if (mounted_) ::umount2(dir_.c_str(), MNT_DETACH);
  }
  bool mounted() const { return mounted_; }
  bool make_read_only() {
    return ::mount("tmpfs", dir_.c_str(), "tmpfs", MS_REMOUNT | MS_RDONLY, nullptr) == 0;
  }
  bool make_writable() { return ::mount("tmpfs", dir_.c_str(), "tmpfs", MS_REMOUNT, nullptr) == 0; }

 private:
  std::string dir_;
  bool mounted_ = false;
};

// Fills the file system of `path`'s folder with `path` until a write
// fails, then gives back `leave` bytes.
void fill(const std::string& path, int64_t leave) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  ASSERT_GE(fd, 0);
  std::string block(4096, 'x');
  while (::write(fd, block.data(), block.size()) > 0) {
  }
  while (::write(fd, "x", 1) > 0) {
  }
  const off_t size = ::lseek(fd, 0, SEEK_END);
  ASSERT_EQ(::ftruncate(fd, std::max<off_t>(0, size - leave)), 0);
  ::close(fd);
}

TEST_F(Crash, OnAFullDiskAndAReadOnlyFolderTheRunStopsInOneLineAndLosesNothing) {
  MountedFolder disk(dir / "disk", "16m");
  if (!disk.mounted()) GTEST_SKIP() << "cannot mount a tmpfs here (needs root)";
  const std::string run = dir / "disk/run";
  ASSERT_EQ(run_cli(train_args(run, 10)).status, 0);
  const std::string checkpoint = read_file(checkpoint_path(run));
  // Room for the config and a few metrics lines, not for a checkpoint.
  fill(dir / "disk/filler", 12288 + static_cast<int64_t>(checkpoint.size()) / 2);
  auto r = run_cli(resume_args(run, 30));
  expect_one_line_error(r, "checkpoint");
  EXPECT_EQ(read_file(checkpoint_path(run)), checkpoint);
  EXPECT_EQ(open_run(run, "last").state.global_step, 10);
  for (const auto& e : fs::recursive_directory_iterator(run))
    EXPECT_NE(e.path().extension(), ".tmp") << "a failed write left " << e.path();
  // Not one byte left: the config cannot be written, nor a line appended.
  fill(dir / "disk/filler2", 0);
  r = run_cli(resume_args(run, 30));
  expect_one_line_error(r, run);
  EXPECT_EQ(read_file(checkpoint_path(run)), checkpoint);
  fs::remove(dir / "disk/filler");
  fs::remove(dir / "disk/filler2");

  // Read-only: training and eval.json stop in one line, nothing changes.
  ASSERT_EQ(run_cli("eval " + run + " --metrics nll --threads 1").status, 0);
  const std::string eval = read_file(run + "/eval.json");
  ASSERT_TRUE(disk.make_read_only());
  r = run_cli(resume_args(run, 30));
  expect_one_line_error(r, run);
  r = run_cli("eval " + run + " --metrics nll,speed --threads 1");
  expect_one_line_error(r, "eval.json");
  ASSERT_TRUE(disk.make_writable());
  EXPECT_EQ(read_file(checkpoint_path(run)), checkpoint);
  EXPECT_EQ(read_file(run + "/eval.json"), eval);

  // With space the run ends as an uninterrupted one would.
  ASSERT_EQ(run_cli(resume_args(run, 30)).status, 0);
  const std::string ref = dir / "ref";
  ASSERT_EQ(run_cli(train_args(ref, 30)).status, 0);
  genzoo::Run a = open_run(ref, "last"), b = open_run(run, "last");
  expect_same_tensors(*a.model, *b.model, "checkpoint.pt");
}

}  // namespace
}  // namespace genzoo
