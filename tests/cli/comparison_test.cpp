// genzoo compare --models: two small models at a tiny budget give the
// results JSON and CSV with every column and the page; a second call
// reuses the runs; a model that fails is reported while the others stand;
// bad inputs exit 2 naming the problem before anything trains.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>

#include "genzoo/core/files.h"
#include "genzoo/report/comparison_report.h"
#include "test_support.h"

namespace genzoo {
namespace {

using testing::run_cli;
using testing::TempDir;

std::vector<std::string> csv_cells(const std::string& line) {
  std::vector<std::string> cells;
  std::string cell;
  bool quoted = false;
  for (char c : line) {
    if (c == '"') quoted = !quoted;
    else if (c == ',' && !quoted) {
      cells.push_back(cell);
      cell.clear();
    } else cell += c;
  }
  cells.push_back(cell);
  return cells;
}

const std::string kSmall = " --data mnist-10k --time-limit 2 --samples 100 --threads 1";

TEST(Comparison, TwoSmallModelsGiveEveryColumnAndASecondCallReusesTheRuns) {
  TempDir dir;
  const std::string out = dir / "cmp";
  auto r = run_cli("compare --models independent,fvsbn" + kSmall + " --out " + out);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find(out + "/report.html"), std::string::npos) << r.out;
  auto results = nlohmann::json::parse(read_file(out + "/results.json"));
  ASSERT_EQ(results["models"].size(), 2u);
  for (const auto& m : results["models"]) {
    ASSERT_EQ(m["runs"].size(), 1u);
    const auto& run = m["runs"][0];
    EXPECT_EQ(run["status"], "done") << run.dump();
    for (const char* key : {"nll_nats", "bits_per_dim", "fid", "kid", "precision", "recall", "ms_ssim_samples",
                            "sharpness_ratio", "seconds_per_64_samples"})
      EXPECT_TRUE(run["metrics"].contains(key)) << m["model"] << " lacks " << key;
    // A binarized model has no Parzen entry in the protocol, nothing on points.
    EXPECT_TRUE(run["metrics"]["unavailable"].contains("modes")) << run["metrics"].dump();
    EXPECT_GT(run["train_peak_mb"].get<double>(), 10.0);
    EXPECT_GT(run["steps"].get<double>(), 0.0);
    EXPECT_TRUE(m["summary"].contains("fid"));
  }
  // The verdicts of the autoregressive model: exact likelihood measured; no
  // latent or adversarial model here to call its sampling slow against.
  bool exact = false, speed_unmeasured = false;
  for (const auto& v : results["verdicts"]) {
    if (v["model"] != "fvsbn") continue;
    if (v["claim"].get<std::string>().find("exact likelihood") != std::string::npos) exact = v["verdict"] == "confirmed";
    if (v["claim"].get<std::string>().find("slow sampling") != std::string::npos)
      speed_unmeasured = v["verdict"] == "not measured";
  }
  EXPECT_TRUE(exact) << results["verdicts"].dump();
  EXPECT_TRUE(speed_unmeasured) << results["verdicts"].dump();
  // The CSV: the header, then one row per run with a cell for every column.
  std::istringstream csv(read_file(out + "/results.csv"));
  std::string header, row;
  std::getline(csv, header);
  std::vector<std::string> expected = {"model", "family", "seed", "status", "run"};
  for (const auto& c : comparison_csv_columns()) expected.push_back(c);
  EXPECT_EQ(csv_cells(header), expected);
  int rows = 0;
  while (std::getline(csv, row)) {
    EXPECT_EQ(csv_cells(row).size(), expected.size()) << row;
    ++rows;
  }
  EXPECT_EQ(rows, 2);
  EXPECT_TRUE(file_exists(out + "/report.html"));
  // The test split's features were extracted once per view and kept.
  int cached = 0;
  for (const auto& f : std::filesystem::directory_iterator(out + "/feature-cache")) cached += f.is_regular_file();
  EXPECT_EQ(cached, 1);  // both models see the same static draw of the test split
  EXPECT_EQ(results["models"][0]["runs"][0]["metrics"]["reference_features"], "extracted");
  EXPECT_EQ(results["models"][1]["runs"][0]["metrics"]["reference_features"], "read from the feature cache");

  // Again: nothing trains or evaluates, the results stand.
  const auto trained_at = std::filesystem::last_write_time(out + "/runs/fvsbn-s0/checkpoint.pt");
  const auto evaluated_at = std::filesystem::last_write_time(out + "/runs/fvsbn-s0/eval.json");
  r = run_cli("compare --models independent,fvsbn" + kSmall + " --out " + out);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.err.find("independent-s0: reused"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("fvsbn-s0: reused"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("training"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("evaluating"), std::string::npos) << r.err;
  EXPECT_EQ(std::filesystem::last_write_time(out + "/runs/fvsbn-s0/checkpoint.pt"), trained_at);
  EXPECT_EQ(std::filesystem::last_write_time(out + "/runs/fvsbn-s0/eval.json"), evaluated_at);
  auto again = nlohmann::json::parse(read_file(out + "/results.json"));
  EXPECT_EQ(again["models"][1]["runs"][0]["metrics"]["fid"], results["models"][1]["runs"][0]["metrics"]["fid"]);

  // Another budget or protocol in the same folder is refused, not mixed in.
  for (const std::string changed : {" --data mnist-10k --time-limit 3 --samples 100 --threads 1",
                                    " --data mnist-10k --time-limit 2 --samples 200 --threads 1"}) {
    r = run_cli("compare --models independent,fvsbn" + changed + " --out " + out);
    EXPECT_EQ(r.status, 2) << changed << "\n" << r.err;
    EXPECT_NE(r.err.find("use another --out"), std::string::npos) << r.err;
  }
  EXPECT_EQ(std::filesystem::last_write_time(out + "/runs/fvsbn-s0/eval.json"), evaluated_at);
}

// Stopped while a model trains (the child goes with it), the comparison
// resumes that training on the next call and finishes it.
TEST(Comparison, AnInterruptedComparisonResumesItsTraining) {
  TempDir dir;
  const std::string out = dir / "cmp";
  const int pid = testing::spawn_cli("compare --models fvsbn" + kSmall + " --out " + out, {}, dir / "first.log");
  const std::string run = out + "/runs/fvsbn-s0";
  for (int i = 0; i < 400 && !file_exists(run + "/checkpoint.pt"); ++i) usleep(50000);
  ASSERT_TRUE(file_exists(run + "/checkpoint.pt")) << read_file(dir / "first.log");
  const std::string child = "pgrep -f '[g]enzoo train fvsbn --data mnist-10k --out " + run + "' >/dev/null";
  const bool running = std::system(child.c_str()) == 0;  // the pattern finds the child while it runs
  kill(pid, SIGTERM);
  int status = 0;
  waitpid(pid, &status, 0);
  EXPECT_FALSE(file_exists(out + "/runs/fvsbn-s0.json") &&
               nlohmann::json::parse(read_file(out + "/runs/fvsbn-s0.json")).value("status", "") == "done");
  // The training child died with its parent (its command line names the
  // run; "[g]" keeps the pattern from matching the shell that runs pgrep).
  bool gone = false;
  for (int i = 0; i < 100 && !gone; ++i) {
    gone = std::system(child.c_str()) != 0;
    if (!gone) usleep(50000);
  }
  EXPECT_TRUE(running) << "the training child was not found while it ran: the check below would prove nothing";
  EXPECT_TRUE(gone) << "a child still runs in " << run;
  auto r = run_cli("compare --models fvsbn" + kSmall + " --out " + out);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.err.find("fvsbn-s0: resuming"), std::string::npos) << r.err;
  auto rec = nlohmann::json::parse(read_file(out + "/runs/fvsbn-s0.json"));
  EXPECT_EQ(rec["status"], "done");
  EXPECT_NE(read_file(out + "/runs/fvsbn-s0.train.log").find("resuming fvsbn"), std::string::npos)
      << read_file(out + "/runs/fvsbn-s0.train.log");
}

// An existing run folder listed first (with a trailing slash) is taken as
// it is, under a name of its own.
TEST(Comparison, AGivenRunFolderIsEvaluatedAsItIs) {
  TempDir dir;
  const std::string given = dir / "fvsbn-s0";  // the name a trained fvsbn would have
  auto r = run_cli("train fvsbn --data mnist-10k --out " + given + " --steps 20 --threads 1");
  ASSERT_EQ(r.status, 0) << r.err;
  const std::string out = dir / "cmp";
  r = run_cli("compare --models " + given + "/,independent" + kSmall + " --out " + out);
  ASSERT_EQ(r.status, 0) << r.err;
  auto results = nlohmann::json::parse(read_file(out + "/results.json"));
  ASSERT_EQ(results["models"].size(), 2u);
  EXPECT_EQ(results["models"][0]["label"], "run:fvsbn-s0");
  EXPECT_EQ(results["models"][0]["runs"][0]["status"], "done") << results["models"][0].dump();
  EXPECT_EQ(results["models"][0]["runs"][0]["run"], given);
  EXPECT_TRUE(file_exists(out + "/runs/run_fvsbn-s0.json"));
  EXPECT_FALSE(file_exists(out + "/runs/.json"));
  // Listing it twice is refused.
  r = run_cli("compare --models " + given + "," + given + "/" + kSmall + " --out " + (dir / "cmp2"));
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("listed twice"), std::string::npos) << r.err;
}

TEST(Comparison, AFailedModelIsReportedAndTheOthersStand) {
  TempDir dir;
  // An existing run whose checkpoints are damaged: its evaluation fails.
  const std::string broken = dir / "broken";
  auto r = run_cli("train independent --data mnist-10k --out " + broken + " --steps 5 --threads 1");
  ASSERT_EQ(r.status, 0) << r.err;
  for (const char* f : {"/checkpoint.pt", "/checkpoint.prev.pt", "/best.pt"})
    if (file_exists(broken + f)) write_file(broken + f, "not a checkpoint");
  const std::string out = dir / "cmp";
  r = run_cli("compare --models fvsbn," + broken + kSmall + " --out " + out);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.err.find("broken: FAILED: evaluation exited with status 2"), std::string::npos) << r.err;
  auto results = nlohmann::json::parse(read_file(out + "/results.json"));
  ASSERT_EQ(results["models"].size(), 2u);
  EXPECT_EQ(results["models"][0]["runs"][0]["status"], "done");
  const auto& failed = results["models"][1]["runs"][0];
  EXPECT_EQ(failed["status"], "failed");
  EXPECT_NE(failed["error"].get<std::string>().find("checkpoint"), std::string::npos) << failed.dump();
  const std::string page = read_file(out + "/report.html");
  EXPECT_NE(page.find("This run failed: evaluation exited with status 2"), std::string::npos);
  // A second call does not retry it unless asked.
  r = run_cli("compare --models fvsbn," + broken + kSmall + " --out " + out);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.err.find("failed before"), std::string::npos) << r.err;
}

TEST(Comparison, BadInputsExitTwoBeforeAnythingTrains) {
  TempDir dir;
  const std::string out = dir / "cmp";
  struct Case {
    std::string args, message;
  };
  // A run of another dataset, to be refused by name.
  const std::string other = dir / "other";
  auto r = run_cli("train independent --data fashion-mnist --out " + other + " --steps 2 --threads 1");
  ASSERT_EQ(r.status, 0) << r.err;
  for (const auto& c : std::vector<Case>{
           {"compare --models independent,no-such-model" + kSmall + " --out " + out, "no-such-model"},
           {"compare --models independent," + other + kSmall + " --out " + out, "trained on 'fashion-mnist'"},
           {"compare --models independent --data mnist-10k --time-limit 0 --out " + out, "--time-limit must be > 0"},
           {"compare --models independent --time-limit 5 --out " + out, "needs --data"},
           {"compare --models independent --data no-such-data --time-limit 5 --out " + out, "no-such-data"},
           {"compare --models independent --data mnist-10k --time-limit 5", "needs --out"},
           {"compare --models , --data mnist-10k --time-limit 5 --out " + out, "names no model"},
           {"compare --models independent --data mnist-10k --time-limit 5 --ood no-such-data --out " + out,
            "no-such-data"},
           {"compare --models vae@no/such/recipe.toml --data mnist-10k --time-limit 5 --out " + out,
            "recipe 'no/such/recipe.toml'"},
       }) {
    r = run_cli(c.args);
    EXPECT_EQ(r.status, 2) << c.args << "\n" << r.err;
    EXPECT_NE(r.err.find(c.message), std::string::npos) << c.args << "\n" << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_FALSE(file_exists(out + "/runs")) << c.args;
  }
}

}  // namespace
}  // namespace genzoo
