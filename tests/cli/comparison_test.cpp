// genzoo compare --models: two small models at a tiny budget give the
// results JSON and CSV with every column and the page; a second call
// reuses the runs; a model that fails is reported while the others stand;
// bad inputs exit 2 naming the problem before anything trains.
#include <gtest/gtest.h>

#include <algorithm>
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

  // Again: nothing trains or evaluates, the results stand.
  const auto trained_at = std::filesystem::last_write_time(out + "/runs/fvsbn-s0/checkpoint.pt");
  const auto evaluated_at = std::filesystem::last_write_time(out + "/runs/fvsbn-s0/eval.json");
  r = run_cli("compare --models independent,fvsbn" + kSmall + " --out " + out);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.err.find("independent-s0: reused"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("fvsbn-s0: reused"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("training"), std::string::npos) << r.err;
  EXPECT_EQ(std::filesystem::last_write_time(out + "/runs/fvsbn-s0/checkpoint.pt"), trained_at);
  EXPECT_EQ(std::filesystem::last_write_time(out + "/runs/fvsbn-s0/eval.json"), evaluated_at);
  auto again = nlohmann::json::parse(read_file(out + "/results.json"));
  EXPECT_EQ(again["models"][1]["runs"][0]["metrics"]["fid"], results["models"][1]["runs"][0]["metrics"]["fid"]);
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
