// The command line end to end on a small IDX dataset made here: every error
// path exits with status 2 and one line naming the problem; a run trains,
// samples, evaluates and resumes.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include <zlib.h>

#include "genzoo/core/files.h"
#include "genzoo/core/rng.h"
#include "genzoo/data/dataset.h"
#include "genzoo/data/idx.h"
#include "genzoo/data/image.h"
#include "genzoo/eval/likelihood.h"
#include "genzoo/eval/parzen.h"
#include "genzoo/train/run.h"
#include "test_support.h"

namespace genzoo {
namespace {

using testing::run_cli;

class Cli : public ::testing::Test {
 protected:
  void SetUp() override {
    // 100 grey 8x8 images: dark background, a bright square that moves.
    auto imgs = torch::zeros({100, 8, 8}, torch::kUInt8);
    for (int64_t i = 0; i < 100; ++i) imgs[i].slice(0, i % 4, i % 4 + 4).slice(1, 2, 6).fill_(200);
    write_idx(dir / "images.idx", imgs);
    data = "idx:" + (dir / "images.idx");
  }

  // Runs a command expected to fail with status 2 and a one-line message
  // containing every string in `expect`.
  void expect_error(const std::string& args, const std::vector<std::string>& expect) {
    auto r = run_cli(args);
    EXPECT_EQ(r.status, 2) << args << "\nstderr: " << r.err;
    // Progress lines may come first; the error is one line, the last.
    auto last = r.err.rfind('\n', r.err.size() - 2);
    std::string line = r.err.substr(last == std::string::npos ? 0 : last + 1);
    EXPECT_EQ(line.rfind("genzoo: ", 0), 0u) << args << "\nstderr: " << r.err;
    size_t error_lines = 0;
    for (size_t at = 0; (at = r.err.find("genzoo: ", at)) != std::string::npos; ++at) ++error_lines;
    EXPECT_EQ(error_lines, 1u) << args << "\nstderr: " << r.err;
    for (const auto& e : expect) EXPECT_NE(r.err.find(e), std::string::npos) << args << "\nstderr: " << r.err << "\nmissing: " << e;
  }

  std::string train_args(const std::string& out, const std::string& budget = "--epochs 1") {
    return "train independent --data " + data + " --binarize threshold --out " + out + " " + budget +
           " --set train.batch_size=10 --set optim.name=sgd --threads 1";
  }

  testing::TempDir dir;
  std::string data;
};

TEST_F(Cli, HelpAndListingsSucceed) {
  for (auto args : {"--help", "train --help", "sample --help", "eval --help", "data --help",
                    "models", "data list"}) {
    auto r = run_cli(args);
    EXPECT_EQ(r.status, 0) << args << r.err;
  }
  auto models = run_cli("models");
  EXPECT_NE(models.out.find("independent"), std::string::npos);
  EXPECT_NE(models.out.find("sample,density"), std::string::npos);
  auto list = run_cli("data list");
  EXPECT_NE(list.out.find("fashion-mnist"), std::string::npos);
  EXPECT_NE(list.out.find("ring8"), std::string::npos);
}

TEST_F(Cli, TrainSampleEvalEndToEnd) {
  std::string run = dir / "run";
  auto t = run_cli(train_args(run, "--epochs 2"));
  ASSERT_EQ(t.status, 0) << t.err;
  EXPECT_NE(t.out.find("2 epochs"), std::string::npos) << t.out;
  EXPECT_TRUE(file_exists(run + "/config.toml"));
  auto s = run_cli("sample " + run + " -n 9 --out " + (dir / "s.png"));
  ASSERT_EQ(s.status, 0) << s.err;
  EXPECT_TRUE(file_exists(dir / "s.png"));
  auto e = run_cli("eval " + run + " --json");
  ASSERT_EQ(e.status, 0) << e.err;
  EXPECT_NE(e.out.find("\"nll_nats\""), std::string::npos);
  EXPECT_NE(e.out.find("\"bits_per_dim\""), std::string::npos);
  EXPECT_TRUE(file_exists(run + "/eval.json"));
}

TEST_F(Cli, EvalComputesWhatTheModelAndDataAllowAndNamesWhatTheyDoNot) {
  std::string run = dir / "run";
  ASSERT_EQ(run_cli(train_args(run)).status, 0);
  auto e = run_cli("eval " + run + " --metrics nll,parzen,neighbours,speed,auroc --ood idx:" +
                   (dir / "images.idx") + " --samples 100 --json");
  ASSERT_EQ(e.status, 0) << e.err;
  for (auto key : {"\"parzen_mean\"", "\"nn_distance_mean\"", "\"samples_per_second\"", "\"auroc\"",
                   "\"fpr_at_95_tpr\""})
    EXPECT_NE(e.out.find(key), std::string::npos) << key;
  EXPECT_TRUE(file_exists(run + "/neighbours.png"));
  expect_error("eval " + run + " --metrics fid", {"fid", "feature network"});
  expect_error("eval " + run + " --metrics modes", {"modes", "ring8"});
  expect_error("eval " + run + " --metrics auroc", {"auroc", "--ood"});
  expect_error("eval " + run + " --metrics auroc --ood ring8", {"--ood", "ring8"});
  expect_error("eval " + run + " --samples 5", {"--samples"});
}

TEST_F(Cli, ResumeEqualsUninterrupted) {
  std::string a = dir / "a", b = dir / "b";
  ASSERT_EQ(run_cli(train_args(a, "--epochs 2")).status, 0);
  ASSERT_EQ(run_cli(train_args(b, "--epochs 1")).status, 0);
  auto r = run_cli("train --resume --out " + b + " --epochs 2 --threads 1");
  ASSERT_EQ(r.status, 0) << r.err;
  // Same weights: evaluating both gives the same NLL to the last digit.
  auto ea = run_cli("eval " + a + " --json"), eb = run_cli("eval " + b + " --json");
  auto nll = [](const std::string& json) {
    auto at = json.find("\"nll_nats\"");
    return json.substr(at, json.find(',', at) - at);
  };
  EXPECT_EQ(nll(ea.out), nll(eb.out));
}

TEST_F(Cli, DivergenceExitsWithStatus3AndKeepsTheCheckpoint) {
  std::string run = dir / "run";
  ASSERT_EQ(run_cli(train_args(run)).status, 0);
  std::string good = read_file(run + "/checkpoint.pt");
  auto r = run_cli("train --resume --out " + run +
                   " --epochs 3 --set optim.lr=3e38 --threads 1");
  EXPECT_EQ(r.status, 3) << r.err;
  EXPECT_NE(r.err.find("diverged"), std::string::npos) << r.err;
  EXPECT_EQ(read_file(run + "/checkpoint.pt"), good);
}

TEST_F(Cli, DivergenceAtAnEpochBoundaryNeverSavesTheBrokenModel) {
  // One batch per epoch: the exploding update is followed at once by the
  // end-of-epoch checkpoint, which must refuse the non-finite model.
  std::string run = dir / "run";
  auto r = run_cli("train independent --data " + data + " --binarize threshold --out " + run +
                   " --epochs 3 --set train.batch_size=100 --set optim.name=sgd --set optim.lr=3e38 --threads 1");
  EXPECT_EQ(r.status, 3) << r.err;
  auto e = run_cli("eval " + run + " --metrics nll --json");  // the step-0 checkpoint
  ASSERT_EQ(e.status, 0) << e.err;
  EXPECT_EQ(e.out.find("inf"), std::string::npos) << e.out;
  EXPECT_EQ(e.out.find("nan"), std::string::npos) << e.out;
}

TEST_F(Cli, AutoregressiveModelsTrainSampleEvaluateAndComplete) {
  const std::vector<std::pair<std::string, std::string>> models = {
      {"fvsbn", ""},
      {"nade", " --set model.hidden=16"},
      {"made", " --set model.hidden=32 --set model.masks=3 --set model.layers=2"}};
  for (const auto& [name, extra] : models) {
    std::string run = dir / name;
    auto t = run_cli("train " + name + " --data " + data + " --binarize threshold --out " + run +
                     " --epochs 2 --set train.batch_size=10 --threads 1" + extra);
    ASSERT_EQ(t.status, 0) << name << ": " << t.err;
    auto e = run_cli("eval " + run + " --metrics nll --json");
    ASSERT_EQ(e.status, 0) << name << ": " << e.err;
    EXPECT_NE(e.out.find("\"nll_is\": \"exact\""), std::string::npos) << e.out;
    EXPECT_NE(e.out.find("\"nll_nats\""), std::string::npos) << e.out;
    ASSERT_EQ(run_cli("sample " + run + " -n 4 --out " + (dir / (name + "-s.png"))).status, 0) << name;
    // Two test images, three completions each: rows of observed | 3 | original.
    std::string png = dir / (name + "-c.png");
    auto c = run_cli("sample " + run + " --complete test:0 test:1 --per-image 3 --out " + png);
    ASSERT_EQ(c.status, 0) << name << ": " << c.err;
    EXPECT_NE(c.out.find("exact"), std::string::npos) << c.out;
    auto grid = read_image(png);
    EXPECT_EQ(grid.size(2), 5 * 8 + 6 * 2) << name;  // 5 tiles of 8 pixels, 2-pixel padding
    EXPECT_EQ(grid.size(1), 2 * 8 + 3 * 2) << name;
    auto b = run_cli("sample " + run + " --complete test:0 --mask bottom-half --out " + png);
    ASSERT_EQ(b.status, 0) << name << ": " << b.err;
    EXPECT_NE(b.out.find("approximate"), std::string::npos) << name << ": " << b.out;
  }
  // A PNG to complete and an explicit mask PNG (white = observed).
  auto image = torch::zeros({1, 8, 8}, torch::kUInt8);
  image.slice(1, 2, 6).slice(2, 2, 6).fill_(255);
  write_png(dir / "in.png", image);
  auto mask = torch::zeros({1, 8, 8}, torch::kUInt8);
  mask.slice(2, 0, 3).fill_(255);
  write_png(dir / "mask.png", mask);
  auto m = run_cli("sample " + (dir / "nade") + " --complete " + (dir / "in.png") + " --mask " + (dir / "mask.png") +
                   " --out " + (dir / "m.png"));
  EXPECT_EQ(m.status, 0) << m.err;
  EXPECT_NE(m.out.find("approximate"), std::string::npos) << m.out;  // left columns: not a raster prefix

  std::string run = dir / "nade";
  expect_error("sample " + run + " --complete test:9999", {"test:9999", "INDEX in [0,"});
  expect_error("sample " + run + " --complete test:x", {"test:x"});
  expect_error("sample " + run + " --complete " + (dir / "missing.png"), {"missing.png"});
  expect_error("sample " + run + " --complete test:0 --mask diagonal", {"--mask 'diagonal'", "top-half"});
  write_png(dir / "big.png", torch::zeros({1, 9, 8}, torch::kUInt8));
  expect_error("sample " + run + " --complete " + (dir / "big.png"), {"big.png", "1x9x8"});
  write_png(dir / "all.png", torch::full({1, 8, 8}, 255, torch::kUInt8));
  expect_error("sample " + run + " --complete test:0 --mask " + (dir / "all.png"), {"observes every pixel"});
  expect_error("sample " + run + " --mask top-half", {"--mask", "--complete"});
  expect_error("train made --data " + data + " --binarize threshold --out " + (dir / "bad") +
                   " --set model.layers=3",
               {"layers must be 1 or 2"});
  expect_error("train nade --data " + data + " --out " + (dir / "bad2"), {"binary pixels", "--binarize"});
}

TEST_F(Cli, ValidationSplitKeepsTheBestCheckpointForEvalAndSample) {
  std::string run = dir / "val", plain = dir / "plain";
  auto t = run_cli(train_args(run, "--epochs 3") + " --set train.validation=20 --set train.patience=5");
  ASSERT_EQ(t.status, 0) << t.err;
  EXPECT_NE(t.err.find("70 train / 20 validation / 10 test"), std::string::npos) << t.err;
  EXPECT_NE(t.out.find("best validation nll"), std::string::npos) << t.out;
  ASSERT_TRUE(file_exists(run + "/best.pt"));
  // The best validation nll the trainer logged.
  double logged_best = 1e300;
  std::stringstream lines(read_file(run + "/metrics.jsonl"));
  for (std::string line; std::getline(lines, line);) {
    auto j = nlohmann::json::parse(line);
    if (j.contains("val_nll")) logged_best = std::min(logged_best, j["val_nll"].get<double>());
  }
  auto eval = [&](const std::string& extra) {
    auto r = run_cli("eval " + run + " --metrics nll --json " + extra);
    EXPECT_EQ(r.status, 0) << extra << "\n" << r.err;
    return nlohmann::json::parse(r.out);
  };
  auto best = eval(""), last = eval("--checkpoint last"), val = eval("--split validation");
  EXPECT_EQ(best["checkpoint"], "best.pt");
  EXPECT_EQ(last["checkpoint"], "checkpoint.pt");
  EXPECT_EQ(val["checkpoint"], "best.pt");
  EXPECT_EQ(val["split"], "validation");
  EXPECT_NEAR(val["nll_nats"].get<double>(), logged_best, 1e-4);
  ASSERT_EQ(run_cli("sample " + run + " -n 4 --checkpoint last --out " + (dir / "last.png")).status, 0);
  EXPECT_TRUE(file_exists(dir / "last.png"));

  ASSERT_EQ(run_cli(train_args(plain)).status, 0);
  expect_error("eval " + plain + " --split validation", {"no validation split", "train.validation"});
  expect_error("eval " + run + " --checkpoint newest", {"--checkpoint"});
  expect_error(train_args(dir / "v2") + " --set train.validation=90", {"train.validation", "[0, 90)"});
  expect_error(train_args(dir / "v3") + " --set train.patience=2", {"train.patience", "train.validation"});
  expect_error("train --resume --out " + run + " --epochs 4 --set train.validation=10",
               {"cannot change 'train.validation'"});
}

// JSON printed by a command that succeeded.
nlohmann::json json_of(const testing::CliResult& r, const std::string& what) {
  EXPECT_EQ(r.status, 0) << what << "\nstderr: " << r.err;
  try {
    return nlohmann::json::parse(r.out);
  } catch (const nlohmann::json::exception& e) {
    ADD_FAILURE() << what << ": not JSON: " << r.out;
    return nlohmann::json::object();
  }
}

TEST_F(Cli, ParzenChoosesSigmaOnHeldOutRowsNeverOnScoredOnes) {
  std::string plain = dir / "plain", val = dir / "val";
  ASSERT_EQ(run_cli(train_args(plain)).status, 0);
  ASSERT_EQ(run_cli(train_args(val) + " --set train.validation=20").status, 0);
  // With a validation split: sigma on it, the test split scored.
  auto v = json_of(run_cli("eval " + val + " --metrics parzen --samples 100 --json --threads 1"), "val");
  EXPECT_NE(v["parzen_sigma_rows"].get<std::string>().find("validation split (20 rows)"), std::string::npos) << v;
  EXPECT_EQ(v["parzen_scored"], 10);
  // Without one, scoring the training split: sigma on 45 random training
  // rows, and the other 45 scored.
  auto t = json_of(run_cli("eval " + plain + " --metrics parzen --split train --samples 100 --json --threads 1"), "train");
  EXPECT_EQ(t["parzen_scored"], 45);
  EXPECT_NE(t["parzen_sigma_rows"].get<std::string>().find("45 random training rows"), std::string::npos) << t;
  EXPECT_NE(t["parzen_sigma_rows"].get<std::string>().find("not scored"), std::string::npos) << t;
  // The numbers themselves: Parzen of the run's samples (the same draw as
  // `sample -n 100 --seed 7`) with sigma chosen on parzen_sigma_rows(90)
  // of the thresholded training rows, scoring the 10 test rows; and the
  // same from the samples given as --images.
  ASSERT_EQ(run_cli("sample " + plain + " -n 100 --seed 7 --out " + (dir / "s.idx")).status, 0);
  auto raw = read_idx(dir / "images.idx");                          // uint8 [100, 8, 8]
  auto binary = (raw > 127).to(torch::kFloat32).unsqueeze(1);      // [100, 1, 8, 8]
  auto is_test = torch::arange(100).remainder(10) == 9;
  auto train = binary.index_select(0, torch::arange(100).masked_select(~is_test));  // [90, ...]
  auto test = binary.index_select(0, torch::arange(100).masked_select(is_test));    // [10, ...]
  RowSplit rows = parzen_sigma_rows(90, 0);
  ParzenResult want = parzen_evaluate(read_idx(dir / "s.idx"), train.index_select(0, rows.held), test);
  auto got = json_of(run_cli("eval " + plain + " --metrics parzen --samples 100 --seed 7 --json --threads 1"), "run");
  auto given = json_of(run_cli("eval --images " + (dir / "s.idx") + " --data " + data +
                               " --binarize threshold --metrics parzen --json --threads 1"), "images");
  for (const auto& j : {got, given}) {
    EXPECT_EQ(j["parzen_sigma"].get<double>(), want.sigma) << j;
    EXPECT_NEAR(j["parzen_mean"].get<double>(), want.mean, 1e-9 * std::abs(want.mean)) << j;
    EXPECT_NEAR(j["parzen_stderr"].get<double>(), want.stderr_mean, 1e-9 * want.stderr_mean) << j;
  }
  // The memorisation reference is held-out test images whatever split is
  // scored: training images would find themselves at distance 0. (On
  // images that are all different: the fixture's 4 squares repeat, so its
  // test images are copies of training ones.)
  auto noise = (torch::rand({100, 8, 8}, derived_generator(5, 1)) < 0.5).to(torch::kUInt8) * 255;
  write_idx(dir / "noise.idx", noise);
  std::string distinct = dir / "distinct";
  ASSERT_EQ(run_cli("train independent --data idx:" + (dir / "noise.idx") + " --binarize threshold --out " + distinct +
                    " --epochs 1 --threads 1").status, 0);
  auto nt = json_of(run_cli("eval " + distinct + " --metrics neighbours --split train --samples 100 --json --threads 1"), "nn train");
  auto ns = json_of(run_cli("eval " + distinct + " --metrics neighbours --samples 100 --json --threads 1"), "nn test");
  EXPECT_GT(nt["nn_distance_mean_test_images"].get<double>(), 0.0);
  EXPECT_EQ(nt["nn_distance_mean_test_images"], ns["nn_distance_mean_test_images"]);
}

TEST_F(Cli, CompareGivesEachDifferenceWithItsPairedStandardError) {
  std::string a = dir / "a", b = dir / "b", grey = dir / "grey";
  ASSERT_EQ(run_cli(train_args(a, "--epochs 3")).status, 0);
  ASSERT_EQ(run_cli("train fvsbn --data " + data + " --binarize threshold --out " + b +
                    " --epochs 3 --set train.batch_size=10 --threads 1").status, 0);
  auto c = json_of(run_cli("compare " + a + " " + b + " --json --threads 1"), "compare");
  ASSERT_EQ(c["runs"].size(), 2u);
  ASSERT_EQ(c["differences"].size(), 1u);
  EXPECT_EQ(c["examples"], 10);
  // The runs' NLLs are those eval reports, and the difference is theirs.
  auto ea = json_of(run_cli("eval " + a + " --metrics nll --json --threads 1"), "eval a");
  auto eb = json_of(run_cli("eval " + b + " --metrics nll --json --threads 1"), "eval b");
  EXPECT_NEAR(c["runs"][0]["nll"].get<double>(), ea["nll_nats"].get<double>(), 1e-9);
  EXPECT_NEAR(c["runs"][1]["stderr"].get<double>(), eb["nll_stderr"].get<double>(), 1e-9);
  const auto& d = c["differences"][0];
  EXPECT_NEAR(d["nll_a_minus_b"].get<double>(), ea["nll_nats"].get<double>() - eb["nll_nats"].get<double>(), 1e-9);
  // The paired standard error from the per-image NLLs of the two models.
  genzoo::Run ra = open_run(a), rb = open_run(b);
  auto na = per_example_nll(*as<Density>(ra.model), ra.data.test);
  auto nb = per_example_nll(*as<Density>(rb.model), rb.data.test);
  const double paired = (na - nb).std().item<double>() / std::sqrt(10.0);
  EXPECT_NEAR(d["paired_stderr"].get<double>(), paired, 1e-9 * paired);
  EXPECT_NEAR(d["z"].get<double>(), d["nll_a_minus_b"].get<double>() / paired, 1e-6);
  // A run against itself differs by exactly 0 with no spread.
  auto same = json_of(run_cli("compare " + a + " " + a + " --json --threads 1"), "same");
  EXPECT_EQ(same["differences"][0]["nll_a_minus_b"], 0.0);
  EXPECT_EQ(same["differences"][0]["paired_stderr"], 0.0);
  // Runs that score different images are not paired.
  ASSERT_EQ(run_cli("train independent --data " + data + " --binarize static --out " + grey +
                    " --epochs 1 --set train.batch_size=10 --threads 1").status, 0);
  expect_error("compare " + a + " " + grey, {"different test images"});
  expect_error("compare " + a, {"at least two runs"});
  // A split of one image has no standard error.
  write_idx(dir / "ten.idx", read_idx(dir / "images.idx").slice(0, 0, 10));
  std::string t1 = dir / "t1", t2 = dir / "t2";
  for (const auto& r : {t1, t2})
    ASSERT_EQ(run_cli("train independent --data idx:" + (dir / "ten.idx") + " --binarize threshold --out " + r +
                      " --epochs 1 --set train.batch_size=3 --threads 1").status, 0);
  expect_error("compare " + t1 + " " + t2, {"1 example", "at least 2"});
}

TEST_F(Cli, EvalScoresImagesMadeElsewhereAndNamesEveryBadInput) {
  // Images of the right size, as uint8 and as float in [0, 1].
  auto imgs = read_idx(dir / "images.idx");  // uint8 [100, 8, 8]
  write_idx(dir / "u8.idx", imgs.slice(0, 0, 100));
  write_idx(dir / "f32.idx.gz", (imgs.to(torch::kFloat32) / 255).unsqueeze(1));
  auto u8 = json_of(run_cli("eval --images idx:" + (dir / "u8.idx") + " --data " + data + " --json --threads 1"), "u8");
  auto f32 = json_of(run_cli("eval --images " + (dir / "f32.idx.gz") + " --data " + data + " --json --threads 1"), "f32");
  EXPECT_EQ(u8["images_count"], 100);
  for (const char* key : {"parzen_mean", "nn_distance_mean"}) {
    ASSERT_TRUE(u8.contains(key)) << u8;
    EXPECT_NEAR(u8[key].get<double>(), f32[key].get<double>(), 1e-9) << key;
  }
  EXPECT_FALSE(u8.contains("nll_nats"));
  // A folder of PNGs.
  ensure_dir(dir / "pngs");
  for (int64_t i = 0; i < 100; ++i) write_png(dir / ("pngs/" + std::to_string(1000 + i) + ".png"), imgs[i].unsqueeze(0));
  auto folder = json_of(run_cli("eval --images folder:" + (dir / "pngs") + " --data " + data + " --metrics neighbours --json --threads 1"), "folder");
  EXPECT_NEAR(folder["nn_distance_mean"].get<double>(), u8["nn_distance_mean"].get<double>(), 1e-9);

  const std::string img = " --data " + data;
  write_idx(dir / "small.idx", torch::zeros({120, 10, 10}, torch::kUInt8));
  expect_error("eval --images " + (dir / "small.idx") + img, {"1x10x10", "1x8x8"});
  write_idx(dir / "rgb.idx", torch::zeros({120, 3, 8, 8}, torch::kUInt8));
  expect_error("eval --images " + (dir / "rgb.idx") + img, {"3x8x8", "1x8x8"});
  write_idx(dir / "bright.idx", torch::full({120, 1, 8, 8}, 1.5f));
  expect_error("eval --images " + (dir / "bright.idx") + img, {"bright.idx", "[0, 1]"});
  write_idx(dir / "few.idx", torch::zeros({50, 8, 8}, torch::kUInt8));
  expect_error("eval --images " + (dir / "few.idx") + img, {"holds 50 images", "at least 100"});
  write_idx(dir / "ints.idx", torch::zeros({120, 8, 8}, torch::kInt32));
  expect_error("eval --images " + (dir / "ints.idx") + img, {"ints.idx", "pixels; expected uint8"});
  testing::write_bytes(dir / "text.idx", "this is not an image file\n");
  expect_error("eval --images " + (dir / "text.idx") + img, {"text.idx", "bad magic"});
  expect_error("eval --images " + (dir / "notes.txt") + img, {"notes.txt", "idx:FILE"});
  expect_error("eval --images " + (dir / "missing.idx") + img, {"missing.idx", "no such file"});
  expect_error("eval --images " + (dir / "u8.idx"), {"--data"});
  expect_error("eval --images " + (dir / "u8.idx") + img + " --metrics nll", {"nll", "trained run"});
  expect_error("eval --images " + (dir / "u8.idx") + img + " --metrics fid", {"fid", "feature network"});
  ASSERT_EQ(run_cli(train_args(dir / "run")).status, 0);
  expect_error("eval " + (dir / "run") + " --images " + (dir / "u8.idx") + img, {"RUN", "--images", "not both"});
  for (const std::string& option : std::vector<std::string>{"--checkpoint last", "--samples 500", "--split train", "--ood " + data})
    expect_error("eval --images " + (dir / "u8.idx") + img + " " + option, {"applies to a trained run"});
  expect_error("eval --images " + (dir / "pngs") + img, {"pngs", "idx:FILE"});  // a folder needs folder:
  expect_error("eval --images idx:" + (dir / "pngs") + img, {"pngs", "not a regular file"});
  expect_error("eval", {"RUN", "--images"});
}

TEST_F(Cli, SampleWritesIdxThatEvalReadsBackExactly) {
  std::string run = dir / "run";
  ASSERT_EQ(run_cli(train_args(run)).status, 0);
  auto s = run_cli("sample " + run + " -n 150 --seed 4 --out " + (dir / "s.idx"));
  ASSERT_EQ(s.status, 0) << s.err;
  auto x = read_idx(dir / "s.idx");
  EXPECT_EQ(x.scalar_type(), torch::kFloat32);
  EXPECT_EQ(x.sizes(), (std::vector<int64_t>{150, 1, 8, 8}));
  EXPECT_TRUE(((x == 0) | (x == 1)).all().item<bool>());  // binarized samples, exactly
  // The same draw as `eval RUN` makes with the same seed: the same metrics.
  auto from_run = json_of(run_cli("eval " + run + " --metrics neighbours --samples 150 --seed 4 --json --threads 1"), "run");
  auto from_file = json_of(run_cli("eval --images " + (dir / "s.idx") + " --data " + data +
                                   " --binarize threshold --metrics neighbours --seed 4 --json --threads 1"), "file");
  EXPECT_EQ(from_run["nn_distance_mean"], from_file["nn_distance_mean"]);
  expect_error("sample " + run + " -n 5000 --out " + (dir / "big.png"), {"4,096", ".idx"});
  expect_error("sample " + run + " -n 10 --out " + (dir / "nowhere/s.idx"), {"nowhere", "does not exist"});
  expect_error("sample " + run + " -n 10 --out " + dir.path() + ".idx/", {"--out"});
  expect_error("sample " + run + " --out " + (dir / "s.jpg"), {"s.jpg", ".png", ".idx"});
}

TEST_F(Cli, ExternalImagesScoreTheSameFidAsTheRunAndTheBaseline) {
  // The shipped Fashion-MNIST feature network and the Debian package's data.
  const std::string test_images = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz";
  if (!file_exists(test_images)) GTEST_SKIP() << "fashion-mnist is not installed (apt-get install dataset-fashion-mnist)";
  // The test split against itself: FID 0.
  auto self = json_of(run_cli("eval --images idx:" + test_images + " --data fashion-mnist --metrics fid --json --threads 1"), "self");
  EXPECT_LT(std::abs(self["fid"].get<double>()), 1e-4) << self;
  EXPECT_EQ(self["generated_count"], 10000);
  // --images are scored in a seeded shuffled order (so that no metric
  // depends on the file's order); FID, a function of the set, then differs
  // from the same set in another order by float rounding only (1e-9 to
  // 1e-8 relative seen), hence a relative tolerance of 1e-6 below.
  // 10,000 training images saved by the baseline score the baseline's FID.
  auto base = json_of(run_cli("data baseline fashion-mnist -n 10000 --metrics fid --save-samples " + (dir / "train.idx") +
                              " --json"), "baseline");
  auto again = json_of(run_cli("eval --images " + (dir / "train.idx") + " --data fashion-mnist --metrics fid --json --threads 1"), "again");
  EXPECT_EQ(again["generated_count"], 10000);
  EXPECT_NEAR(again["fid"].get<double>(), base["fid"].get<double>(), 1e-6 * base["fid"].get<double>());
  EXPECT_GT(base["fid"].get<double>(), 0.0);
  // A run's samples written as IDX score the FID `eval RUN` reports.
  std::string run = dir / "fm";
  ASSERT_EQ(run_cli("train independent --data fashion-mnist --binarize threshold --steps 20 --out " + run +
                    " --set train.sample_every=0 --threads 1").status, 0);
  auto from_run = json_of(run_cli("eval " + run + " --metrics fid --samples 1000 --seed 3 --json --threads 1"), "run");
  ASSERT_EQ(run_cli("sample " + run + " -n 1000 --seed 3 --out " + (dir / "s.idx")).status, 0);
  auto from_file = json_of(run_cli("eval --images " + (dir / "s.idx") +
                                   " --data fashion-mnist --binarize threshold --metrics fid --json --threads 1"), "file");
  EXPECT_NEAR(from_file["fid"].get<double>(), from_run["fid"].get<double>(), 1e-6 * from_run["fid"].get<double>());
}

TEST_F(Cli, ModelsListFromMetadataAndDataMismatchesSayTheFix) {
  auto m = run_cli("models");
  ASSERT_EQ(m.status, 0) << m.err;
  for (auto name : {"independent", "fvsbn", "nade", "made"}) EXPECT_NE(m.out.find(name), std::string::npos);
  EXPECT_NE(m.out.find("sample,density,complete,autoregressive"), std::string::npos) << m.out;
  EXPECT_NE(m.out.find("binary"), std::string::npos) << m.out;
  expect_error("train nade --data " + data + " --set data.levels=256",
               {"binary pixels", "--binarize threshold|static|dynamic", "256 grey levels"});
  expect_error("train nade --data " + data + " --set data.scale=symmetric", {"binary pixels", "[-1,1]"});
  expect_error("train nade --data ring8", {"images, not 2-D points"});
  expect_error("train independent --data " + data + " --binarize threshold --set data.levels=256",
               {"data.levels", "binarize none"});
  expect_error("train independent --data " + data + " --binarize threshold --set data.levels=16", {"data.levels", "256"});
  expect_error(train_args(dir / "r") + " --set train.clip_grad_norm=nan", {"train.clip_grad_norm"});
  expect_error(train_args(dir / "r2") + " --set train.select_by=fid", {"train.select_by", "'fid'", "nll"});
}

TEST_F(Cli, AGzipBombIsABadInputNotACrash) {
  // A header for 2 images of 8x8, then 256 MiB of zeros, about 250 KB compressed.
  const std::string path = dir / "bomb.idx.gz";
  gzFile f = gzopen(path.c_str(), "wb9");
  ASSERT_NE(f, nullptr);
  const unsigned char header[] = {0, 0, 0x08, 3, 0, 0, 0, 2, 0, 0, 0, 8, 0, 0, 0, 8};
  gzwrite(f, header, sizeof header);
  std::string zeros(size_t{1} << 20, '\0');
  for (int i = 0; i < 256; ++i) gzwrite(f, zeros.data(), static_cast<unsigned>(zeros.size()));
  gzclose(f);
  expect_error("train independent --data idx:" + path + " --binarize threshold --out " + (dir / "bomb"),
               {"bomb.idx.gz", "header declares"});
}

TEST_F(Cli, ACvaeTrainsOnLabelledDataAndSamplesOneRowPerClass) {
  // The fixture's squares with their position as the class label (0..3).
  write_idx(dir / "labels.idx", (torch::arange(100) % 4).to(torch::kUInt8));
  const std::string labelled = "idx:" + (dir / "images.idx") + "," + (dir / "labels.idx");
  std::string run = dir / "cvae";
  auto t = run_cli("train cvae --data " + labelled + " --binarize threshold --out " + run +
                   " --epochs 3 --set train.batch_size=10 --set model.hidden=16 --set model.latent=2"
                   " --set model.eval_samples=50 --set train.validation=20 --set train.sample_count=8 --threads 1");
  ASSERT_EQ(t.status, 0) << t.err;
  EXPECT_NE(t.out.find("best validation neg_elbo"), std::string::npos) << t.out;
  // The trainer's grids and `sample --per-class` hold one row per class.
  auto grid = read_image(run + "/samples/final.png");  // 4 rows of 2 (8 / 4 classes), 8x8 with 2-pixel gaps
  EXPECT_EQ(grid.size(1), 4 * 10 + 2);
  EXPECT_EQ(grid.size(2), 2 * 10 + 2);
  auto s = run_cli("sample " + run + " --per-class 3 --out " + (dir / "pc.png"));
  ASSERT_EQ(s.status, 0) << s.err;
  EXPECT_NE(s.out.find("one row per class"), std::string::npos) << s.out;
  auto pc = read_image(dir / "pc.png");
  EXPECT_EQ(pc.size(1), 4 * 10 + 2);
  EXPECT_EQ(pc.size(2), 3 * 10 + 2);
  ASSERT_EQ(run_cli("sample " + run + " --class 2 -n 5 --out " + (dir / "c2.idx")).status, 0);
  EXPECT_EQ(read_idx(dir / "c2.idx").size(0), 5);
  auto e = json_of(run_cli("eval " + run + " --metrics nll,elbo --json --threads 1"), "eval");
  EXPECT_NE(e["neg_elbo_of"].get<std::string>().find("label"), std::string::npos) << e;
  EXPECT_GT(e["nll_nats"].get<double>(), 0.0) << e;
  // -L_1(x, y) - log p(y) bounds -log p(x); the estimate lies below it up to its noise.
  EXPECT_GT(e["neg_elbo_nats"].get<double>(), e["neg_elbo_given_label_nats"].get<double>()) << e;
  EXPECT_LE(e["nll_nats"].get<double>(), e["neg_elbo_nats"].get<double>() + 0.5) << e;
  // Every split brings its own rows' labels.
  for (const std::string split : {"train", "validation"}) {
    auto es = json_of(run_cli("eval " + run + " --metrics elbo --split " + split + " --json --threads 1"), split);
    EXPECT_GT(es["neg_elbo_given_label_nats"].get<double>(), 0.0) << es;
  }
  expect_error("sample " + run + " --per-class 2 -n 5", {"-n"});
  expect_error("sample " + run + " --class 4", {"--class 4", "0..3"});
  expect_error("train cvae --data " + data + " --binarize threshold --out " + (dir / "unlabelled"),
               {"class-conditional", "class labels"});
  std::string ind = dir / "ind";
  ASSERT_EQ(run_cli(train_args(ind)).status, 0);
  expect_error("sample " + ind + " --per-class 2", {"--per-class", "not class-conditional"});
}

TEST_F(Cli, GansTrainLogTheirHealthResumeExactlyAndNameTheMetricsTheyHave) {
  auto gan_args = [&](const std::string& out, const std::string& budget) {
    return "train gan --data " + data + " --out " + out + " " + budget +
           " --set train.batch_size=10 --set model.g_hidden=16 --set model.d_hidden=8 --set model.noise_dims=8"
           " --set objective.k=2 --set objective.health_every=2 --set train.log_every=2 --threads 1";
  };
  std::string a = dir / "gan_a", b = dir / "gan_b";
  auto t = run_cli(gan_args(a, "--steps 6"));
  ASSERT_EQ(t.status, 0) << t.err;
  // Each step took k = 2 batches: 6 steps are 12 batches of 10, past the
  // first epoch's end, where the held-out energy distance is scored.
  std::ifstream log(a + "/metrics.jsonl");
  std::string line;
  int steps = 0;
  bool epoch = false;
  while (std::getline(log, line)) {
    auto j = nlohmann::json::parse(line);
    if (j["event"] == "step") {
      ++steps;
      for (auto key : {"d_loss", "g_loss", "d_real", "d_fake", "d_grad_norm", "g_grad_norm", "diversity"})
        EXPECT_TRUE(j.contains(key)) << key << " in " << line;
    }
    if (j["event"] == "epoch") {
      epoch = true;
      EXPECT_TRUE(j.contains("test_energy_distance")) << line;
    }
  }
  EXPECT_EQ(steps, 3);
  EXPECT_TRUE(epoch);
  // Resumed halfway, the run ends with the same generator.
  ASSERT_EQ(run_cli(gan_args(b, "--steps 3")).status, 0);
  auto r = run_cli("train --resume --out " + b + " --steps 6 --threads 1");
  ASSERT_EQ(r.status, 0) << r.err;
  ASSERT_EQ(run_cli("sample " + a + " -n 16 --seed 3 --out " + (dir / "a.idx")).status, 0);
  ASSERT_EQ(run_cli("sample " + b + " -n 16 --seed 3 --out " + (dir / "b.idx")).status, 0);
  EXPECT_TRUE(torch::equal(read_idx(dir / "a.idx"), read_idx(dir / "b.idx")));
  // A player's optimizer or the game itself cannot change under a resume.
  expect_error("train --resume --out " + b + " --steps 8 --set optim_g.name=sgd", {"optim_g.name", "resumed"});
  expect_error("train --resume --out " + b + " --steps 8 --set objective.loss=minimax", {"objective.loss"});
  // The paper's interpolation figure: pairs of noise draws, a linear and a
  // spherical row each.
  auto li = run_cli("latent interpolate " + a + " -n 2 --steps 5 --out " + (dir / "interp.png"));
  ASSERT_EQ(li.status, 0) << li.err;
  auto interp = read_image(dir / "interp.png");  // 4 rows of 5 8x8 images, 2-pixel gaps
  EXPECT_EQ(interp.size(1), 4 * 10 + 2);
  EXPECT_EQ(interp.size(2), 5 * 10 + 2);
  expect_error("latent interpolate " + a + " --from test:0 --to test:1", {"no encoder", "noise"});
  // No density: asked for one, it says which metrics it has.
  expect_error("eval " + a + " --metrics nll", {"nll", "gan", "parzen"});
  auto e = run_cli("eval " + a + " --metrics parzen --samples 100 --json --threads 1");
  EXPECT_EQ(e.status, 0) << e.err;
  expect_error("train gan --data " + data + " --binarize threshold --out " + (dir / "bin"), {"gan"});
  expect_error(gan_args(dir / "bad", "--steps 1") + " --set objective.loss=hinge", {"objective.loss", "wgan_gp"});
}

TEST_F(Cli, ACganSamplesOneRowPerClass) {
  write_idx(dir / "labels.idx", (torch::arange(100) % 4).to(torch::kUInt8));
  const std::string labelled = "idx:" + (dir / "images.idx") + "," + (dir / "labels.idx");
  std::string run = dir / "cgan";
  auto t = run_cli("train cgan --data " + labelled + " --out " + run +
                   " --steps 4 --set train.batch_size=10 --set model.g_hidden=16 --set model.d_hidden=8"
                   " --set train.sample_count=8 --threads 1");
  ASSERT_EQ(t.status, 0) << t.err;
  auto grid = read_image(run + "/samples/final.png");  // 4 rows of 2
  EXPECT_EQ(grid.size(1), 4 * 10 + 2);
  EXPECT_EQ(grid.size(2), 2 * 10 + 2);
  // MS-SSIM of random pairs, pooled and within each class, beside the same
  // for real pairs (8 x 8 images: one scale).
  auto e = json_of(run_cli("eval " + run + " --metrics ms_ssim --samples 200 --json --threads 1"), "eval");
  EXPECT_EQ(e["ms_ssim_scales"].get<int64_t>(), 1) << e;
  for (const char* key : {"ms_ssim_samples", "ms_ssim_data"}) {
    EXPECT_GE(e[key].get<double>(), 0.0) << key;
    EXPECT_LE(e[key].get<double>(), 1.0) << key;
  }
  ASSERT_EQ(e["ms_ssim_per_class_samples"].size(), 4u) << e;
  ASSERT_EQ(e["ms_ssim_per_class_data"].size(), 4u) << e;
  for (int c = 0; c < 4; ++c) {
    // Image i is of class i % 4, and every image of a class is the same
    // picture. The test split is rows 9, 19, ..., of classes 1 and 3 only:
    // their real pairs are identical; classes 0 and 2 have no test images
    // to pair, and say so with null rather than a number.
    if (c % 2 == 1)
      EXPECT_NEAR(e["ms_ssim_per_class_data"][c].get<double>(), 1.0, 1e-9) << e;
    else
      EXPECT_TRUE(e["ms_ssim_per_class_data"][c].is_null()) << e;
    EXPECT_GE(e["ms_ssim_per_class_samples"][c].get<double>(), 0.0) << e;
    EXPECT_LE(e["ms_ssim_per_class_samples"][c].get<double>(), 1.0 + 1e-9) << e;
  }
  expect_error("train cgan --data " + data + " --out " + (dir / "unlabelled"), {"class labels"});
}

TEST_F(Cli, AGanOnRingPointsIsJudgedByTheModeMetrics) {
  std::string run = dir / "ring";
  auto t = run_cli("train gan --data ring8 --out " + run + " --steps 40 --set model.g_hidden=16 --set model.d_hidden=16"
                   " --set train.batch_size=64 --threads 1");
  ASSERT_EQ(t.status, 0) << t.err;
  EXPECT_TRUE(file_exists(run + "/samples/final.png"));  // a scatter plot over the true modes
  auto e = json_of(run_cli("eval " + run + " --metrics modes --json --threads 1"), "eval");
  EXPECT_EQ(e["modes_samples"].get<int64_t>(), 2500) << e;
  EXPECT_EQ(e["modes_total"].get<int64_t>(), 8) << e;
  const auto modes = e["modes_captured"].get<int64_t>();
  EXPECT_GE(modes, 0);
  EXPECT_LE(modes, 8);
  EXPECT_GE(e["high_quality_share"].get<double>(), 0.0);
  EXPECT_LE(e["high_quality_share"].get<double>(), 1.0);
  expect_error("eval " + run + " --metrics fid", {"fid"});
}

TEST_F(Cli, AVaeTrainsOnItsBoundAndReportsTheEstimateBesideTheElbo) {
  std::string run = dir / "vae";
  auto t = run_cli("train vae --data " + data + " --binarize threshold --out " + run +
                   " --epochs 3 --set train.batch_size=10 --set model.hidden=16 --set model.latent=2"
                   " --set model.eval_samples=500 --set train.validation=20 --threads 1");
  ASSERT_EQ(t.status, 0) << t.err;
  EXPECT_NE(t.out.find("best validation neg_elbo"), std::string::npos) << t.out;  // selected by its own score
  std::stringstream lines(read_file(run + "/metrics.jsonl"));
  bool logged = false;
  for (std::string line; std::getline(lines, line);) {
    auto j = nlohmann::json::parse(line);
    if (j["event"] == "epoch")
      logged = j.contains("train_reconstruction") && j.contains("train_kl") && j.contains("val_neg_elbo");
  }
  EXPECT_TRUE(logged) << read_file(run + "/metrics.jsonl");
  auto e = json_of(run_cli("eval " + run + " --metrics nll,elbo --json --threads 1"), "eval");
  EXPECT_NE(e["nll_is"].get<std::string>().find("lower bound"), std::string::npos) << e;
  // The importance estimate with K = 500 is at least as tight as the ELBO
  // (lower NLL), up to its noise on 10 images.
  EXPECT_LE(e["nll_nats"].get<double>(), e["neg_elbo_nats"].get<double>() + 0.1) << e;
  auto s = run_cli("sample " + run + " -n 9 --out " + (dir / "vae.png"));
  EXPECT_EQ(s.status, 0) << s.err;
  // The convolutional pair reads its own keys (model.channels, not model.hidden).
  std::string conv = dir / "conv";
  auto tc = run_cli("train vae --data " + data + " --binarize threshold --out " + conv +
                    " --epochs 1 --set train.batch_size=10 --set model.arch=conv --set model.channels=4"
                    " --set model.latent=2 --set model.eval_samples=50 --threads 1");
  ASSERT_EQ(tc.status, 0) << tc.err;
  EXPECT_EQ(read_file(conv + "/config.toml").find("hidden"), std::string::npos);
  EXPECT_EQ(json_of(run_cli("eval " + conv + " --metrics nll --json --threads 1"), "conv").contains("nll_nats"), true);
  expect_error("train vae --data " + data + " --binarize threshold --out " + (dir / "c2") +
                   " --set model.arch=conv --set model.hidden=8",
               {"model.hidden"});
  // Paired differences of estimated bounds only when asked for, and marked.
  expect_error("compare " + run + " " + conv + " --threads 1", {"bound", "--bounds"});
  auto cmp = json_of(run_cli("compare " + run + " " + conv + " --bounds --json --threads 1"), "compare --bounds");
  ASSERT_EQ(cmp["runs"].size(), 2u);
  EXPECT_NE(cmp["runs"][0]["nll_is"].get<std::string>().find("lower bound"), std::string::npos) << cmp;
  EXPECT_NEAR(cmp["differences"][0]["nll_a_minus_b"].get<double>(),
              cmp["runs"][0]["nll"].get<double>() - cmp["runs"][1]["nll"].get<double>(), 1e-9) << cmp;
  // Grey data: a Gaussian decoder on [0,1], the discretised logistic on 256
  // levels, both chosen by the data; bits/dim on the 8-bit levels.
  for (const std::string& grey : {std::string(""), std::string(" --set data.levels=256")}) {
    std::string r = dir / ("grey" + std::to_string(grey.size()));
    auto tg = run_cli("train vae --data " + data + " --out " + r + " --epochs 1 --set train.batch_size=10" +
                      " --set model.hidden=16 --set model.latent=2 --set model.eval_samples=50 --threads 1" + grey);
    ASSERT_EQ(tg.status, 0) << grey << ": " << tg.err;
    EXPECT_NE(read_file(r + "/config.toml").find(grey.empty() ? "likelihood = 'gaussian'" : "likelihood = 'logistic'"),
              std::string::npos);
    auto eg = json_of(run_cli("eval " + r + " --metrics nll,elbo --json --threads 1"), "grey");
    if (grey.empty()) {
      // A Gaussian density over continuous pixels: nats of density, no bits/dim.
      EXPECT_FALSE(eg.contains("bits_per_dim")) << eg;
      EXPECT_NE(eg["nll_is"].get<std::string>().find("continuous"), std::string::npos) << eg;
      // ... and no paired comparison with the probabilities of discrete images.
      expect_error("compare " + r + " " + r + " --bounds --threads 1", {"continuous pixels"});
    } else {
      EXPECT_GT(eg["bits_per_dim"].get<double>(), 0.0) << eg;  // 256 levels: a discrete likelihood
    }
    ASSERT_EQ(run_cli("sample " + r + " -n 4 --out " + (dir / "g.png")).status, 0);
  }
  expect_error("train vae --data " + data + " --binarize threshold --out " + (dir / "bad") +
                   " --set model.likelihood=logistic",
               {"model.likelihood = logistic", "data.levels=256"});
  expect_error("eval " + (dir / "vae") + " --metrics elbo,bogus", {"bogus"});
  std::string ind = dir / "ind";
  ASSERT_EQ(run_cli(train_args(ind)).status, 0);
  expect_error("eval " + ind + " --metrics elbo", {"elbo", "variational bound"});
  expect_error("train vae --data " + data + " --binarize threshold --out " + (dir / "iw") +
                   " --set model.k=5 --set objective.beta=0.5",
               {"objective.beta", "model.k = 5"});
}

TEST_F(Cli, AutoencodersReconstructAndDenoise) {
  std::string dae = dir / "dae", ae = dir / "ae";
  for (const auto& [run, name] : {std::make_pair(dae, std::string("dae")), std::make_pair(ae, std::string("ae"))}) {
    auto t = run_cli("train " + name + " --data " + data + " --binarize threshold --out " + run +
                     " --epochs 3 --set train.batch_size=10 --set model.hidden=32 --set model.latent=4 --threads 1");
    ASSERT_EQ(t.status, 0) << name << ": " << t.err;
  }
  // No sampler: eval offers what an autoencoder has.
  auto e = json_of(run_cli("eval " + dae + " --json --threads 1"), "eval");
  EXPECT_TRUE(e.contains("reconstruction_nats") && e.contains("reconstruction_psnr_db")) << e;
  EXPECT_FALSE(e.contains("fid") || e.contains("nll_nats")) << e;
  auto d = json_of(run_cli("denoise " + dae + " --input test:0 test:1 test:2 --json --threads 1"), "denoise");
  EXPECT_EQ(d["images"], 3);
  EXPECT_NE(d["noise"].get<std::string>().find("masking"), std::string::npos) << d;  // the dae's own
  EXPECT_TRUE(file_exists(dae + "/samples/denoise.png"));
  auto grid = read_image(dae + "/samples/denoise.png");
  EXPECT_EQ(grid.size(2), 3 * 8 + 4 * 2);  // clean | corrupted | restored
  auto text = run_cli("denoise " + ae + " --input test:0 --noise salt_and_pepper:0.1 --out " + (dir / "d.png"));
  ASSERT_EQ(text.status, 0) << text.err;
  EXPECT_NE(text.out.find("mean PSNR: corrupted"), std::string::npos) << text.out;
  expect_error("denoise " + ae + " --input test:0", {"--noise", "masking:0.25"});
  for (auto bad : {"blur:0.2", "masking", "masking:2", "masking:x", "none:0.1"})
    expect_error("denoise " + dae + " --input test:0 --noise " + std::string(bad), {"--noise", "KIND:LEVEL"});
  expect_error("denoise " + dae + " --input test:999", {"--input", "test:999"});
  std::string ind = dir / "ind";
  ASSERT_EQ(run_cli(train_args(ind)).status, 0);
  expect_error("denoise " + ind + " --input test:0 --noise masking:0.2", {"does not reconstruct", "ae or dae"});
  expect_error("train dae --data " + data + " --binarize threshold --out " + (dir / "d0") + " --set model.noise=none",
               {"model.noise = none", "ae"});
}

TEST_F(Cli, LatentFiguresAndTheLinearProbe) {
  // The square's row is the class (i % 4): four distinct images, so raw
  // pixels separate the classes perfectly.
  write_idx(dir / "labels.idx", torch::arange(100, torch::kInt64).remainder(4).to(torch::kUInt8));
  const std::string labelled = data + "," + (dir / "labels.idx");
  std::string run = dir / "vae2";
  ASSERT_EQ(run_cli("train vae --data " + labelled + " --binarize threshold --out " + run +
                    " --epochs 5 --set train.batch_size=10 --set model.hidden=16 --set model.latent=2 --threads 1")
                .status,
            0);
  auto rec = run_cli("latent reconstruct " + run + " -n 4");
  ASSERT_EQ(rec.status, 0) << rec.err;
  auto g = read_image(run + "/samples/reconstructions.png");
  EXPECT_EQ(g.size(2), 8 * 8 + 9 * 2);  // 4 pairs side by side
  ASSERT_EQ(run_cli("latent interpolate " + run + " --from test:0 --to test:3 --steps 5").status, 0);
  g = read_image(run + "/samples/interpolation.png");
  EXPECT_EQ(g.size(1), 2 * 8 + 3 * 2);  // linear and spherical rows
  EXPECT_EQ(g.size(2), 5 * 8 + 6 * 2);
  ASSERT_EQ(run_cli("latent manifold " + run + " --grid 6").status, 0);
  EXPECT_EQ(read_image(run + "/samples/manifold.png").size(2), 6 * 8 + 7 * 2);
  auto ar = run_cli("latent arithmetic " + run + " --from-class 1 --to-class 2 -n 2");
  ASSERT_EQ(ar.status, 0) << ar.err;
  EXPECT_EQ(read_image(run + "/samples/arithmetic.png").size(1), 3 * 8 + 4 * 2);  // original, decoded, moved
  auto p = json_of(run_cli("latent probe " + run + " --json --threads 1"), "probe");
  EXPECT_EQ(p["pixels_test_accuracy"], 1.0) << p;
  EXPECT_EQ(p["codes_features"], 2);
  EXPECT_EQ(p["train_count"], 90);
  expect_error("latent arithmetic " + run + " --from-class 1 --to-class 7", {"class 7", "[0, 4)"});
  expect_error("latent arithmetic " + run + " --from-class 0 --to-class 1", {"no image of class 0"});  // test rows are 9, 19, ...
  expect_error("latent probe " + (dir / "vae2") + "x", {"not a genzoo run folder"});
  std::string wide = dir / "wide";
  ASSERT_EQ(run_cli("train vae --data " + labelled + " --binarize threshold --out " + wide +
                    " --epochs 1 --set train.batch_size=10 --set model.hidden=8 --set model.latent=3 --threads 1")
                .status,
            0);
  expect_error("latent manifold " + wide, {"2-D latent", "has 3"});
  ASSERT_EQ(run_cli(train_args(dir / "ind")).status, 0);
  expect_error("latent reconstruct " + (dir / "ind"), {"no latent space"});
  expect_error("latent probe " + (dir / "plain-vae"), {"not a genzoo run folder"});
  expect_error("latent arithmetic " + run + " --from-class 1 --to-class 3 -n 0", {"-n"});
}

TEST_F(Cli, BadInputExitsWith2AndOneLine) {
  std::string run = dir / "run";
  expect_error("frobnicate", {"unknown command 'frobnicate'", "train"});
  expect_error("train nosuchmodel --data " + data, {"unknown model 'nosuchmodel'", "independent"});
  expect_error("train independent --data nosuchdata --binarize threshold", {"unknown dataset 'nosuchdata'", "fashion-mnist"});
  expect_error("train independent --data " + data, {"binary pixels", "--binarize"});
  expect_error("train independent --data " + data + " --binarize maybe", {"--binarize", "maybe"});
  expect_error("train independent --data " + data + " --epochs many", {"--epochs"});
  expect_error("train independent --data " + data + " --epochs 2 --steps 3", {"--epochs", "--steps"});
  expect_error("train independent --data " + data + " --frobnicate", {"--frobnicate"});
  expect_error(train_args(run) + " --set optim.lrr=3", {"optim.lrr", "optim.lr"});
  expect_error(train_args(run) + " --set optim.lr=fast", {"optim.lr", "number"});
  expect_error(train_args(run) + " --set optim.name=nadam", {"optim.name", "adam, sgd"});
  expect_error(train_args(run) + " --set optim.lr=1e300", {"optim.lr", "float range"});
  expect_error(train_args(run) + " --set nonsense", {"key=value"});
  expect_error(train_args(run) + " --set optim.lr={a=1}", {"optim.lr", "number"});
  expect_error(train_args(run) + " --time-limit nan", {"--time-limit"});
  expect_error(train_args(run) + " --config " + (dir / "missing.toml"), {"missing.toml"});
  testing::write_bytes(dir / "bad.toml", "[optim\nlr = 1\n");
  expect_error(train_args(run) + " --config " + (dir / "bad.toml"), {"bad.toml"});
  expect_error("train independent --data idx:" + (dir / "none.idx") + " --binarize threshold", {"none.idx"});
  testing::write_bytes(dir / "corrupt.idx", std::string("\x00\x00\x08\x03\x00\x00\x00\x05", 8));
  expect_error("train independent --data idx:" + (dir / "corrupt.idx") + " --binarize threshold", {"corrupt.idx"});
  expect_error("train --resume --out " + (dir / "nothing"), {"nothing", "not a genzoo run folder"});
  expect_error("train --resume", {"--out"});
  expect_error("sample " + (dir / "nothing"), {"not a genzoo run folder"});
  expect_error("eval " + (dir / "nothing"), {"not a genzoo run folder"});
  expect_error("sample", {"RUN"});

  ASSERT_EQ(run_cli(train_args(run)).status, 0);
  expect_error(train_args(run), {"already holds", "--resume"});
  expect_error("eval " + run + " --metrics bogus", {"unknown metric 'bogus'", "nll"});
  expect_error("sample " + run + " -n 0", {"-n"});
  expect_error("train nade --resume --out " + run, {"cannot resume", "independent"});
  // A rejected resume leaves the run as it was.
  std::string config_before = read_file(run + "/config.toml");
  expect_error("train --resume --out " + run + " --epochs 2 --set optim.name=adam", {"cannot change 'optim.name'"});
  expect_error("train --resume --out " + run + " --epochs 2 --binarize static", {"cannot change 'data.binarize'"});
  expect_error("train --resume --out " + run + " --epochs 2 --set train.batch_size=7", {"cannot change 'train.batch_size'"});
  EXPECT_EQ(read_file(run + "/config.toml"), config_before);
  // A damaged checkpoint is reported, never loaded, and never overwritten.
  std::string bytes = read_file(run + "/checkpoint.pt");
  testing::write_bytes(run + "/checkpoint.pt", bytes.substr(0, bytes.size() / 3));
  expect_error("eval " + run, {"checkpoint", "corrupt"});
  expect_error("train --resume --out " + run + " --epochs 2", {"checkpoint", "corrupt"});
  EXPECT_EQ(read_file(run + "/checkpoint.pt").size(), bytes.size() / 3);
}

// The Generative ConvNet end to end on one photograph (a folder of one
// PNG): it trains by contrastive divergence on crops, synthesises at any
// size and scores its syntheses with the texture metric.
TEST_F(Cli, GenerativeConvNetLearnsFromOnePhotographAndSynthesisesAnySize) {
  ensure_dir(dir / "photo");
  auto photo = (torch::rand({1, 24, 24}, derived_generator(31, 1)) * 255).to(torch::kUInt8);
  write_png(dir / "photo/one.png", photo);
  const std::string run = dir / "gcn";
  auto r = run_cli("train genconvnet --data folder:" + (dir / "photo") + " --out " + run +
                   " --steps 3 --threads 1 --set model.layers=4x3s1p1,3x3s2p0 --set model.sample_steps=2"
                   " --set objective.crop=12 --set objective.crops=2 --set objective.langevin_steps=2"
                   " --set train.sample_count=2");
  ASSERT_EQ(r.status, 0) << r.err;
  r = run_cli("sample " + run + " --size 20x30 -n 2 --out " + (dir / "big.png") + " --threads 1");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("wrote 2 samples"), std::string::npos) << r.out;
  auto grid = read_image(dir / "big.png");  // two 20 x 30 images side by side, with borders
  EXPECT_GE(grid.size(1), 20);
  EXPECT_GE(grid.size(2), 60);
  auto t = json_of(run_cli("eval " + run + " --metrics texture --samples 100 --json --threads 1"), "texture");
  EXPECT_EQ(t["texture_syntheses"], 8);  // at most 8 syntheses, whatever --samples asks
  EXPECT_GT(t["texture_spectrum_distance_noise"].get<double>(), 0.0);
  expect_error("sample " + run + " --size 2x2 --threads 1", {"genconvnet", "2 x 2"});
  expect_error("sample " + run + " --size 20by30 --threads 1", {"--size '20by30'", "HEIGHTxWIDTH"});
  expect_error("sample " + run + " --size 4096x4096 -n 2 --threads 1", {"16 million pixels"});
  expect_error("train genconvnet --data folder:" + (dir / "photo") + " --out " + (dir / "gcn2") +
                   " --steps 1 --set objective.crop=30",
               {"objective.crop"});
  expect_error("train genconvnet --data folder:" + (dir / "photo") + " --out " + (dir / "gcn3") +
                   " --steps 1 --set model.layers=4x3s1",
               {"model.layers"});

  // explain --image: the piece of an image, with the identity's residual
  // at rounding for ReLU, and one figure of 2 + 1 + frames tiles.
  r = run_cli("explain " + run + " --image test:0 --steps 4 --frames 2 --out " + (dir / "piece.png") + " --threads 1");
  ASSERT_EQ(r.status, 0) << r.err;
  for (const char* want : {"layer 1 (4 filters 3 x 3, stride 1)", "layer 2 (3 filters", "alpha =", "<I, B> =",
                           "piecewise linear f", "reconstruction sigma^2 B", "wrote image | B = df/dI"})
    EXPECT_NE(r.out.find(want), std::string::npos) << want << "\n" << r.out;
  auto figure = read_image(dir / "piece.png");
  EXPECT_GE(figure.size(2), 5 * 24);  // image, B, reconstruction, 2 frames of the 24 x 24 photo
  // explain --units: one row per unit, --chains per row.
  r = run_cli("explain " + run + " --units 2 --chains 2 --steps 3 --out " + (dir / "units.png") + " --threads 1");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("wrote 3 units of layer 2 (of 3)"), std::string::npos) << r.out;
  auto units = read_image(dir / "units.png");
  EXPECT_GE(units.size(1), 3 * 24);
  expect_error("explain " + run, {"--image", "--units"});
  expect_error("explain " + run + " --units 3", {"--units 3", "layers 1..2"});
  expect_error("explain " + run + " --image test:5", {"test:INDEX"});
  expect_error("explain " + run + " --units 1 --out x.jpg", {"--out", ".png"});
  // A smooth f is not piecewise linear, and explain says by how much.
  const std::string tanh_run = dir / "gcn-tanh";
  r = run_cli("train genconvnet --data folder:" + (dir / "photo") + " --out " + tanh_run +
              " --steps 1 --threads 1 --set model.layers=4x3s1p1 --set model.unit=tanh --set model.reference=laplace"
              " --set model.sample_steps=1 --set objective.langevin_steps=1 --set train.sample_count=1");
  ASSERT_EQ(r.status, 0) << r.err;
  r = run_cli("explain " + tanh_run + " --image test:0 --steps 2 --threads 1");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("tanh units is not piecewise linear"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("no Gaussian piece: model.reference is laplace"), std::string::npos) << r.out;
  expect_error("train genconvnet --data folder:" + (dir / "photo") + " --out " + (dir / "gcn4") +
                   " --steps 1 --set model.reference=cauchy",
               {"model.reference", "laplace"});
}

// The classifier: trained discriminatively, sampled per class with no
// retraining, then fine-tuned generatively from the trained run's weights.
TEST_F(Cli, ClassifierSamplesItsClassesAndFineTunesFromAnotherRun) {
  write_idx(dir / "labels.idx", (torch::arange(100) % 4).to(torch::kUInt8));
  const std::string labelled = data + "," + (dir / "labels.idx");
  const std::string run = dir / "clf", tuned = dir / "clf-gen";
  const std::string tiny = " --threads 1 --set model.layers=4x3s2p1 --set model.hidden=8 --set model.sample_steps=3"
                           " --set objective.chains=8 --set train.sample_count=8 --set train.batch_size=10";
  auto r = run_cli("train classifier --data " + labelled + " --out " + run + " --steps 9" + tiny);  // one epoch
  ASSERT_EQ(r.status, 0) << r.err;
  const auto at = r.out.find("test error ");
  ASSERT_NE(at, std::string::npos) << r.out;
  const double error = std::stod(r.out.substr(at + 11));
  r = run_cli("sample " + run + " --per-class 2 --out " + (dir / "rows.png") + " --threads 1");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("one row per class"), std::string::npos) << r.out;
  auto e = json_of(run_cli("eval " + run + " --metrics accuracy --json --threads 1"), "accuracy");
  EXPECT_NEAR(e["accuracy"].get<double>(), 1.0 - error, 1e-3);  // the same model, the same 10 test images
  EXPECT_EQ(e["accuracy_rows"], 10);
  // The confusion matrix: 4 x 4 counts of (true, predicted) over the 10
  // rows, its diagonal the correct ones.
  const auto& confusion = e["accuracy_confusion"];
  ASSERT_EQ(confusion.size(), 4u) << e.dump();
  int64_t total = 0, diagonal = 0;
  for (size_t t = 0; t < 4; ++t) {
    ASSERT_EQ(confusion[t].size(), 4u) << e.dump();
    for (size_t p = 0; p < 4; ++p) total += confusion[t][p].get<int64_t>();
    diagonal += confusion[t][t].get<int64_t>();
  }
  EXPECT_EQ(total, 10);
  EXPECT_NEAR(static_cast<double>(diagonal) / 10, e["accuracy"].get<double>(), 1e-12);
  r = run_cli("train classifier --data " + labelled + " --out " + tuned + " --steps 2" + tiny +
              " --set objective.generative=true --set objective.langevin_steps=2 --set train.log_every=1 --set train.init_from=" + run +
              " --set objective.chains=4");  // another chain count than the source run's
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.err.find("starting from the weights of " + run), std::string::npos) << r.err;
  expect_error("train classifier --data " + labelled + " --out " + (dir / "bad0") + " --steps 1" + tiny +
                   " --set model.hidden=9 --set train.init_from=" + run,
               {"train.init_from", "fc.weight"});
  EXPECT_NE(read_file(tuned + "/metrics.jsonl").find("f_synth"), std::string::npos);
  expect_error("train classifier --data " + labelled + " --out " + (dir / "bad1") + " --steps 1" + tiny +
                   " --set train.init_from=" + (dir / "nowhere"),
               {"train.init_from", "not a genzoo run folder"});
  ASSERT_EQ(run_cli(train_args(dir / "ind")).status, 0);
  expect_error("train classifier --data " + labelled + " --out " + (dir / "bad2") + " --steps 1" + tiny +
                   " --set train.init_from=" + (dir / "ind"),
               {"train.init_from", "trains 'independent', not 'classifier'"});
  expect_error("train classifier --data " + data + " --out " + (dir / "bad3") + " --steps 1" + tiny, {"labels"});
  // explain --units on the class scores (the last layer).
  r = run_cli("explain " + run + " --units 3 --chains 1 --steps 2 --out " + (dir / "classes.png") + " --threads 1");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("wrote 4 units of layer 3 (of 4)"), std::string::npos) << r.out;
}

// data.class, data.limit and data.resize select what a run trains on.
TEST_F(Cli, DataSelectionKeysPickAClassTheFirstRowsAndASize) {
  ensure_dir(dir / "photo");
  write_png(dir / "photo/one.png", (torch::rand({1, 40, 40}, derived_generator(32, 1)) * 255).to(torch::kUInt8));
  const std::string run = dir / "small";
  auto r = run_cli("train genconvnet --data folder:" + (dir / "photo") + " --out " + run +
                   " --steps 1 --threads 1 --set data.resize=20x20 --set model.layers=4x3s1p1"
                   " --set model.sample_steps=1 --set objective.langevin_steps=1 --set train.sample_count=1");
  ASSERT_EQ(r.status, 0) << r.err;
  r = run_cli("explain " + run + " --image test:0 --steps 1 --frames 1 --threads 1");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("1 x 20 x 20"), std::string::npos) << r.out;  // the resized photo
  expect_error("train genconvnet --data folder:" + (dir / "photo") + " --out " + (dir / "bad1") +
                   " --steps 1 --set data.resize=20by20",
               {"data.resize", "HEIGHTxWIDTH"});
  expect_error("train genconvnet --data folder:" + (dir / "photo") + " --out " + (dir / "bad2") +
                   " --steps 1 --set data.class=0",
               {"data.class", "no class labels"});
  expect_error("train independent --data ring8 --out " + (dir / "bad3") + " --steps 1 --set data.limit=5",
               {"data.limit", "points"});
}

}  // namespace
}  // namespace genzoo

namespace genzoo {
namespace {

// Small IGEBM settings for the fixture's 8 x 8 squares.
const std::string kTinyEbm =
    " --set train.batch_size=10 --set model.filters=4 --set objective.langevin_steps=3 --set model.sample_steps=2"
    " --set objective.buffer_size=40 --set train.log_every=1 --set train.sample_count=4 --threads 1";

// The fixture's images with two classes (the square's row: 0-1 or 2-3),
// written as DIR/labels2.idx: the --data spec of the labelled images.
std::string two_class_data(const testing::TempDir& dir, const std::string& data) {
  auto labels = torch::zeros({100}, torch::kUInt8);
  for (int64_t i = 0; i < 100; ++i) labels[i] = (i % 4) < 2 ? 0 : 1;
  write_idx(dir / "labels2.idx", labels);
  return data + "," + (dir / "labels2.idx");
}

// igebm and cigebm train from the replay buffer, log their energies,
// resume exactly (the buffer travels in the checkpoint), and the
// conditional one samples per class and classifies.
TEST_F(Cli, IgebmTrainsFromItsBufferResumesExactlyAndTheConditionalOneClassifies) {
  const std::string& tiny = kTinyEbm;
  const std::string a = dir / "ebm_a", b = dir / "ebm_b";
  auto r = run_cli("train igebm --data " + data + " --out " + a + " --steps 6 --set data.dequantize=true" + tiny);
  ASSERT_EQ(r.status, 0) << r.err;
  std::ifstream log(a + "/metrics.jsonl");
  std::string line;
  int steps = 0;
  double last_fresh = 1;
  while (std::getline(log, line)) {
    auto j = nlohmann::json::parse(line);
    if (j["event"] != "step") continue;
    ++steps;
    for (auto key : {"e_pos", "e_neg", "e_gap", "input_grad", "fresh", "loss"})
      EXPECT_TRUE(j.contains(key)) << key << " in " << line;
    last_fresh = j["fresh"].get<double>();
  }
  EXPECT_EQ(steps, 6);
  EXPECT_LT(last_fresh, 1.0);  // by then most chains continue from the buffer
  ASSERT_EQ(run_cli("train igebm --data " + data + " --out " + b + " --steps 3 --set data.dequantize=true" + tiny).status, 0);
  r = run_cli("train --resume --out " + b + " --steps 6 --threads 1");
  ASSERT_EQ(r.status, 0) << r.err;
  ASSERT_EQ(run_cli("sample " + a + " --checkpoint last -n 8 --seed 3 --out " + (dir / "ea.idx")).status, 0);
  ASSERT_EQ(run_cli("sample " + b + " --checkpoint last -n 8 --seed 3 --out " + (dir / "eb.idx")).status, 0);
  EXPECT_TRUE(torch::equal(read_idx(dir / "ea.idx"), read_idx(dir / "eb.idx")));
  expect_error("train igebm --data " + data + " --out " + (dir / "ebm_bad") + " --steps 1 --set model.arch=vgg",
               {"model.arch", "vgg", "resnet"});
  expect_error("train igebm --data " + data + " --out " + (dir / "ebm_bad2") + " --steps 1 --set objective.reinit=2",
               {"objective.reinit"});
  // The conditional energy: two classes (the square's row), per-class rows,
  // argmin_y E(x, y) as the classifier.
  const std::string labelled = two_class_data(dir, data);
  const std::string c = dir / "cebm";
  r = run_cli("train cigebm --data " + labelled + " --out " + c + " --steps 4 --set model.arch=resnet" + tiny);
  ASSERT_EQ(r.status, 0) << r.err;
  // Resumed halfway, the conditional run (its buffer in class partitions)
  // ends where the uninterrupted one does.
  const std::string c2 = dir / "cebm2";
  ASSERT_EQ(run_cli("train cigebm --data " + labelled + " --out " + c2 + " --steps 2 --set model.arch=resnet" + tiny).status, 0);
  r = run_cli("train --resume --out " + c2 + " --steps 4 --threads 1");
  ASSERT_EQ(r.status, 0) << r.err;
  ASSERT_EQ(run_cli("sample " + c + " --checkpoint last -n 8 --seed 5 --out " + (dir / "ca.idx")).status, 0);
  ASSERT_EQ(run_cli("sample " + c2 + " --checkpoint last -n 8 --seed 5 --out " + (dir / "cb.idx")).status, 0);
  EXPECT_TRUE(torch::equal(read_idx(dir / "ca.idx"), read_idx(dir / "cb.idx")));
  r = run_cli("sample " + c + " --per-class 3 --out " + (dir / "rows.png") + " --threads 1");
  ASSERT_EQ(r.status, 0) << r.err;
  auto rows = read_image(dir / "rows.png");  // 2 rows of 3 8x8 images, 2-pixel gaps
  EXPECT_EQ(rows.size(1), 2 * 10 + 2);
  EXPECT_EQ(rows.size(2), 3 * 10 + 2);
  auto e = run_cli("eval " + c + " --metrics accuracy --json --threads 1");
  ASSERT_EQ(e.status, 0) << e.err;
  auto acc = nlohmann::json::parse(e.out)["accuracy"].get<double>();
  EXPECT_GE(acc, 0.0);
  EXPECT_LE(acc, 1.0);
  expect_error("train cigebm --data " + data + " --out " + (dir / "cebm_bad") + " --steps 1" + tiny, {"labels"});
  // Continual learning's pieces: a run on class 0 alone (data.classes),
  // scored on classes 0 and 1 (eval --classes), choosing between them.
  const std::string first = dir / "task0";
  r = run_cli("train cigebm --data " + labelled + " --out " + first + " --steps 2 --set data.classes=0" + tiny);
  ASSERT_EQ(r.status, 0) << r.err;
  const std::string second = dir / "task1";
  r = run_cli("train cigebm --data " + labelled + " --out " + second + " --steps 2 --set data.classes=1" +
              " --set train.init_from=" + first + tiny);
  ASSERT_EQ(r.status, 0) << r.err;
  auto own = nlohmann::json::parse(run_cli("eval " + second + " --metrics accuracy --json --threads 1").out);
  auto seen = run_cli("eval " + second + " --metrics accuracy --classes 0,1 --json --threads 1");
  ASSERT_EQ(seen.status, 0) << seen.err;
  auto both = nlohmann::json::parse(seen.out);
  EXPECT_EQ(both["accuracy_classes"], nlohmann::json::array({0, 1}));
  EXPECT_EQ(both["accuracy_rows"].get<int64_t>(), 2 * own["accuracy_rows"].get<int64_t>());  // 50 of each class
  expect_error("eval " + second + " --metrics accuracy --classes 0,9", {"0,9", "0..1"});
  expect_error("eval " + second + " --metrics accuracy --classes 0,,1", {"--classes"});
  expect_error("eval " + second + " --metrics accuracy --classes 0,1 --split validation", {"--classes", "--split"});
  // eval.json keeps the two apart: a plain eval after a --classes one
  // does not carry the class list over.
  auto plain = nlohmann::json::parse(run_cli("eval " + second + " --metrics accuracy --json --threads 1").out);
  EXPECT_FALSE(plain.contains("accuracy_classes")) << plain;
  EXPECT_EQ(plain["accuracy_rows"], own["accuracy_rows"]);
  // Robustness: accuracy under PGD at growing radii, only when asked for.
  auto rob = run_cli("eval " + c + " --metrics robust_accuracy --json --threads 1");
  ASSERT_EQ(rob.status, 0) << rob.err;
  auto table = nlohmann::json::parse(rob.out)["robust_accuracy"];
  ASSERT_EQ(table.size(), 7u);
  EXPECT_EQ(table[0]["epsilon"].get<double>(), 0.0);
  EXPECT_EQ(table[0]["accuracy"].get<double>(), acc);  // the clean accuracy, on the same rows
  EXPECT_LE(table[6]["accuracy"].get<double>(), table[0]["accuracy"].get<double>());
  auto all = nlohmann::json::parse(run_cli("eval " + second + " --json --threads 1").out);  // never asked for it
  EXPECT_FALSE(all.contains("robust_accuracy"));
  EXPECT_TRUE(all.contains("accuracy"));
  expect_error("train cigebm --data " + labelled + " --out " + (dir / "bad_classes") + " --steps 1 --set data.classes=0,x" + tiny,
               {"data.classes", "0,x"});
  expect_error("inpaint " + c + " --image test:999", {"--image"});
  expect_error("train cigebm --data " + labelled + " --out " + (dir / "bad_both") + " --steps 1 --set data.class=0"
               " --set data.classes=0,1" + tiny,
               {"data.class", "data.classes", "not both"});
}

}  // namespace
}  // namespace genzoo

namespace genzoo {
namespace {

// The IGEBM's uses beyond sampling: a product of experts, inpainting with
// the observed pixels held, denoising, and the energy as an OOD score
// against flipped images and noise.
TEST_F(Cli, IgebmComposesInpaintsDenoisesAndScoresOutOfDistribution) {
  const std::string tiny = kTinyEbm + " --set model.sample_steps=3";
  const std::string run = dir / "ebm";
  ASSERT_EQ(run_cli("train igebm --data " + data + " --out " + run + " --steps 3" + tiny).status, 0);
  const std::string crun = dir / "cebm";
  ASSERT_EQ(run_cli("train cigebm --data " + two_class_data(dir, data) + " --out " + crun + " --steps 3" + tiny).status, 0);
  // compose: an unconditional and a class energy, weighted.
  auto r = run_cli("compose " + run + " " + crun + ":1 --weights 1,0.5 -n 6 --out " + (dir / "compose.png") + " --threads 1");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("product of 2 energies"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(crun + ":1"), std::string::npos) << r.out;
  EXPECT_EQ(read_image(dir / "compose.png").size(1), 2 * 10 + 2);  // 6 images: 2 rows of 3
  expect_error("compose " + run + ":1", {run + ":1", "no class-conditional energy"});
  expect_error("compose " + crun + ":5", {"classes are 0..1"});
  expect_error("compose " + run + " " + crun + " --weights 1", {"--weights", "2 energies"});
  std::string ind = dir / "ind";
  ASSERT_EQ(run_cli(train_args(ind)).status, 0);
  expect_error("compose " + run + " " + ind, {ind, "binary"});
  // inpaint: the observed pixels come back bit for bit.
  r = run_cli("inpaint " + run + " --image test:0 --image test:1 --mask top-half --per-image 2 --out " +
              (dir / "inpaint.png") + " --threads 1");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("Langevin: the observed pixels held fixed"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("PSNR of the completed pixels"), std::string::npos) << r.out;
  auto grid = read_image(dir / "inpaint.png");  // 2 rows of observed | 2 completions | original
  EXPECT_EQ(grid.size(2), 4 * 10 + 2);
  auto observed_tile = grid.slice(1, 2, 6).slice(2, 2, 10), completed = grid.slice(1, 2, 6).slice(2, 12, 20);
  EXPECT_TRUE(torch::equal(observed_tile, completed));  // the top half of row 1: held
  r = run_cli("inpaint " + run + " --image test:0 --mask center --out " + (dir / "center.png") + " --threads 1");
  ASSERT_EQ(r.status, 0) << r.err;
  expect_error("inpaint " + run + " --image test:0 --mask middle", {"--mask 'middle'", "center"});
  expect_error("inpaint " + run + " --image test:0 --out " + (dir / "x.idx"), {"--out", ".png"});
  // denoise: an energy model needs the corruption named.
  r = run_cli("denoise " + run + " --input test:0 --input test:1 --noise salt_and_pepper:0.2 --json --threads 1");
  ASSERT_EQ(r.status, 0) << r.err;
  auto d = nlohmann::json::parse(r.out);
  EXPECT_TRUE(d.contains("psnr_restored_db") && d.contains("psnr_corrupted_db")) << r.out;
  expect_error("denoise " + run + " --input test:0", {"--noise"});
  // OOD: the energy scores the test images against flipped ones and noise.
  for (const std::string ood : {"flipped", "noise"}) {
    auto e = run_cli("eval " + run + " --metrics auroc --ood " + ood + " --json --threads 1");
    ASSERT_EQ(e.status, 0) << e.err;
    auto j = nlohmann::json::parse(e.out);
    EXPECT_EQ(j["auroc_ood"], ood);
    EXPECT_EQ(j["auroc_score"], "-energy(x)");
    EXPECT_GE(j["auroc"].get<double>(), 0.0);
    EXPECT_LE(j["auroc"].get<double>(), 1.0);
  }
}

}  // namespace
}  // namespace genzoo
