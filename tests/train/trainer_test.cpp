#include "genzoo/train/trainer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>

#include "genzoo/core/error.h"
#include "genzoo/core/files.h"
#include "genzoo/core/rng.h"
#include "genzoo/data/transforms.h"
#include "genzoo/models/explicit/independent.h"
#include "genzoo/train/checkpoint.h"
#include "genzoo/train/objectives/likelihood.h"
#include "test_support.h"

namespace genzoo {
namespace {

// 120 grey 1x4x4 images; the model sees fresh Bernoulli draws every batch
// (dynamic binarization), so resume must reproduce the per-batch noise too.
struct Fixture {
  torch::Tensor raw;  // uint8 [120, 1, 4, 4]
  std::shared_ptr<ImageTransform> transform;
  TrainData data;

  explicit Fixture(uint64_t seed = 5) {
    auto gen = derived_generator(seed, 1);
    raw = torch::randint(0, 256, {120, 1, 4, 4}, gen, torch::kUInt8);
    transform = std::make_shared<ImageTransform>(
        TransformOptions{Binarize::Dynamic, PixelScale::Unit, false}, 11);
    data.train = transform->prepare(raw, 0);
    data.test = transform->for_eval(raw.slice(0, 0, 40), 1);
    auto t = transform;
    data.batch = [t](const torch::Tensor& x, int64_t e, int64_t b) { return t->batch(x, e, b); };
    data.to_display = [](const torch::Tensor& x) { return x; };
  }
};

struct Trained {
  torch::Tensor logits;
  TrainSummary summary;
};

Trained train(const std::string& dir, Config config, const Fixture& f, bool resume,
              uint64_t init_seed = 0) {
  torch::manual_seed(init_seed);
  Independent model(IndependentOptions().shape({1, 4, 4}));
  TrainerOptions options = TrainerOptions::from_config(config);
  LikelihoodObjective objective(model.ptr(), config);
  Trainer trainer(options, dir, model.ptr(), objective, f.data, config.to_toml());
  Trained t;
  t.summary = trainer.run(resume);
  t.logits = model->logits.detach().clone();
  return t;
}

Config base_config() {
  Config c;
  c.set("train.batch_size", int64_t{16});  // 120 / 16: a partial last batch
  c.set("optim.lr", 0.05);
  c.set("train.sample_count", int64_t{4});
  c.set("train.seed", int64_t{3});
  c.set("optim.name", std::string("sgd"));
  return c;
}

TEST(Trainer, ResumedAfterOneEpochEqualsUninterruptedTwoEpochs) {
  Fixture f;
  testing::TempDir a, b;
  Config two = base_config();
  two.set("train.epochs", int64_t{2});
  Trained full = train(a.path(), two, f, false);
  EXPECT_EQ(full.summary.state.epoch, 2);

  Config one = base_config();
  one.set("train.epochs", int64_t{1});
  Trained first = train(b.path(), one, f, false);
  EXPECT_EQ(first.summary.state.epoch, 1);
  EXPECT_FALSE(torch::equal(first.logits, full.logits));
  // A different initialisation seed proves the weights come from the checkpoint.
  Trained resumed = train(b.path(), two, f, true, /*init_seed=*/99);
  EXPECT_EQ(resumed.summary.state.epoch, 2);
  EXPECT_EQ(resumed.summary.state.global_step, full.summary.state.global_step);
  EXPECT_TRUE(torch::equal(resumed.logits, full.logits));
}

TEST(Trainer, ResumedMidEpochEqualsUninterrupted) {
  Fixture f;
  testing::TempDir a, b;
  Config seven = base_config();
  seven.set("train.steps", int64_t{11});  // stops inside epoch 2 (8 batches per epoch)
  Trained full = train(a.path(), seven, f, false);
  Config three = base_config();
  three.set("train.steps", int64_t{3});
  train(b.path(), three, f, false);
  Trained resumed = train(b.path(), seven, f, true, 42);
  EXPECT_EQ(resumed.summary.state.global_step, 11);
  EXPECT_EQ(resumed.summary.state.batch_in_epoch, 3);
  EXPECT_TRUE(torch::equal(resumed.logits, full.logits));
}

TEST(Trainer, WritesMetricsSamplesAndCheckpoints) {
  Fixture f;
  testing::TempDir dir;
  Config c = base_config();
  c.set("train.epochs", int64_t{2});
  train(dir.path(), c, f, false);
  EXPECT_TRUE(file_exists(dir / "checkpoint.pt"));
  EXPECT_TRUE(file_exists(dir / "checkpoint.prev.pt"));
  EXPECT_TRUE(file_exists(dir / "samples/epoch_0001.png"));
  EXPECT_TRUE(file_exists(dir / "samples/final.png"));
  std::string log = read_file(dir / "metrics.jsonl");
  EXPECT_NE(log.find("\"event\":\"epoch\""), std::string::npos);
  EXPECT_NE(log.find("\"test_nll\""), std::string::npos);
}

TEST(Trainer, NonFiniteLossStopsAndKeepsTheLastGoodCheckpoint) {
  Fixture f;
  testing::TempDir dir;
  Config c = base_config();
  c.set("train.epochs", int64_t{1});
  train(dir.path(), c, f, false);
  std::string good = read_file(dir / "checkpoint.pt");

  Config bad = base_config();
  bad.set("train.epochs", int64_t{3});
  bad.set("optim.lr", 3e38);  // the first update moves logits by ~1e38; summed losses overflow
  EXPECT_THROW(train(dir.path(), bad, f, true), TrainingDiverged);
  EXPECT_EQ(read_file(dir / "checkpoint.pt"), good);
}

TEST(Trainer, TimeLimitStopsTheRun) {
  Fixture f;
  testing::TempDir dir;
  Config c = base_config();
  c.set("train.time_limit", 0.3);
  auto t = train(dir.path(), c, f, false);
  EXPECT_GT(t.summary.state.global_step, 0);
  EXPECT_LT(t.summary.wall_seconds, 5.0);
  EXPECT_TRUE(file_exists(dir / "checkpoint.pt"));
}

TEST(Trainer, BudgetDefaultsToTenEpochsAndAnExplicitZeroTakesNoStep) {
  Config none;
  EXPECT_EQ(TrainerOptions::from_config(none).budget.epochs, 10);
  Fixture f;
  testing::TempDir dir;
  Config zero = base_config();
  zero.set("train.steps", int64_t{0});
  zero.set("train.epochs", int64_t{0});
  zero.set("train.time_limit", 0.0);
  auto t = train(dir.path(), zero, f, false);
  EXPECT_EQ(t.summary.state.global_step, 0);
  EXPECT_TRUE(file_exists(dir / "checkpoint.pt"));  // the initial model, loadable by sample/eval
}

// Loads `file` of a run into a fresh model and returns its logits.
torch::Tensor logits_in(const std::string& file) {
  Independent model(IndependentOptions().shape({1, 4, 4}));
  load_checkpoint(file, *model, nullptr);
  return model->logits.detach().clone();
}

// Every epoch and final line of metrics.jsonl that carries a validation nll.
std::vector<double> logged_val_nll(const std::string& dir) {
  std::vector<double> out;
  std::stringstream lines(read_file(dir + "/metrics.jsonl"));
  for (std::string line; std::getline(lines, line);) {
    auto j = nlohmann::json::parse(line);
    if (j.contains("val_nll")) out.push_back(j["val_nll"].get<double>());
  }
  return out;
}

TEST(Trainer, ValidationKeepsTheModelWithTheBestScore) {
  // Validation rows from the same distribution: the score wanders with SGD
  // noise, and best.pt must hold the model of its minimum, the partial last
  // epoch included.
  Fixture f;
  f.data.validation = f.transform->for_eval(f.raw.slice(0, 40, 80), 2);
  testing::TempDir dir;
  Config c = base_config();
  c.set("train.steps", int64_t{44});  // 5 epochs of 8 batches and 4 more steps
  c.set("optim.lr", 0.5);
  auto t = train(dir.path(), c, f, false);
  auto logged = logged_val_nll(dir.path());
  ASSERT_EQ(logged.size(), 6u);  // 5 epochs and the final partial one
  const double best = *std::min_element(logged.begin(), logged.end());
  EXPECT_EQ(t.summary.state.best_score, best);
  ASSERT_TRUE(file_exists(dir / "best.pt"));
  Independent reloaded(IndependentOptions().shape({1, 4, 4}));
  TrainerState st = load_checkpoint(dir / "best.pt", *reloaded, nullptr);
  EXPECT_EQ(st.best_score, best);
  EXPECT_EQ(st.global_step, t.summary.state.best_step);
  // best.pt scores exactly what was logged for it.
  Config probe_config = base_config();
  LikelihoodObjective probe(reloaded.ptr(), probe_config);
  EXPECT_NEAR(probe.evaluate(f.data.validation, 1000).front().second, best, 1e-9);
}

TEST(Trainer, PatienceStopsTrainingWhenValidationStopsImproving) {
  // Train on all-ones images, validate on all-zeros: every SGD step raises
  // the logits, so the validation nll rises every epoch and the first epoch
  // is the best; patience 2 stops the run after epoch 3 of 10.
  Fixture f;
  auto ones = torch::full({120, 1, 4, 4}, 255, torch::kUInt8);
  auto thresholded = std::make_shared<ImageTransform>(TransformOptions{Binarize::Threshold, PixelScale::Unit, false}, 1);
  f.data.train = thresholded->prepare(ones, 0);
  f.data.batch = nullptr;
  f.data.test = torch::Tensor();
  f.data.validation = thresholded->for_eval(torch::zeros({40, 1, 4, 4}, torch::kUInt8), 2);
  testing::TempDir dir, one_epoch;
  Config c = base_config();
  c.set("train.epochs", int64_t{10});
  c.set("train.patience", int64_t{2});
  auto t = train(dir.path(), c, f, false);
  EXPECT_TRUE(t.summary.stopped_early);
  EXPECT_EQ(t.summary.state.epoch, 3);
  EXPECT_EQ(t.summary.state.best_epoch, 1);
  auto logged = logged_val_nll(dir.path());
  ASSERT_EQ(logged.size(), 3u);
  EXPECT_LT(logged[0], logged[1]);
  EXPECT_LT(logged[1], logged[2]);
  // best.pt is the model after exactly one epoch; checkpoint.pt after three.
  Config c1 = base_config();
  c1.set("train.epochs", int64_t{1});
  auto after_one = train(one_epoch.path(), c1, f, false);
  EXPECT_TRUE(torch::equal(logits_in(dir / "best.pt"), after_one.logits));
  EXPECT_TRUE(torch::equal(logits_in(dir / "checkpoint.pt"), t.logits));
  EXPECT_FALSE(torch::equal(t.logits, after_one.logits));

  // Resumed with a larger budget, the run knows its patience ran out.
  Config more = c;
  more.set("train.epochs", int64_t{20});
  auto resumed = train(dir.path(), more, f, true);
  EXPECT_EQ(resumed.summary.state.epoch, 3);
  EXPECT_TRUE(resumed.summary.stopped_early);
}

TEST(Trainer, ValidationStateResumesExactlyFromAnEpochBoundary) {
  Fixture f;
  f.data.validation = f.transform->for_eval(f.raw.slice(0, 40, 80), 2);
  testing::TempDir through, resumed;
  Config c = base_config();
  c.set("optim.lr", 0.5);
  c.set("train.epochs", int64_t{5});
  c.set("train.patience", int64_t{2});
  auto a = train(through.path(), c, f, false);
  Config first = c;
  first.set("train.epochs", int64_t{2});
  train(resumed.path(), first, f, false);
  auto b = train(resumed.path(), c, f, true);
  EXPECT_TRUE(torch::equal(a.logits, b.logits));
  EXPECT_EQ(a.summary.state.epoch, b.summary.state.epoch);
  EXPECT_EQ(a.summary.state.best_score, b.summary.state.best_score);
  EXPECT_EQ(a.summary.state.best_epoch, b.summary.state.best_epoch);
  EXPECT_EQ(a.summary.stopped_early, b.summary.stopped_early);
  EXPECT_TRUE(torch::equal(logits_in(through / "best.pt"), logits_in(resumed / "best.pt")));
}

TEST(Trainer, ValidationOptionsNeedASplitAndAKnownMetric) {
  Fixture f;
  testing::TempDir dir;
  Config c = base_config();
  c.set("train.epochs", int64_t{1});
  c.set("train.patience", int64_t{3});
  EXPECT_THROW(train(dir.path(), c, f, false), Error);  // no validation split
  Config neg = base_config();
  neg.set("train.patience", int64_t{-1});
  EXPECT_THROW(TrainerOptions::from_config(neg), Error);
  f.data.validation = f.data.test;
  testing::TempDir dir2;
  Config unknown = base_config();
  unknown.set("train.epochs", int64_t{1});
  unknown.set("train.select_by", std::string("fid"));
  try {
    train(dir2.path(), unknown, f, false);
    ADD_FAILURE() << "an unknown train.select_by was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'fid'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("nll"), std::string::npos) << e.what();
  }
  // It failed before anything was trained or written.
  EXPECT_FALSE(file_exists(dir2 / "metrics.jsonl"));
  EXPECT_FALSE(file_exists(dir2 / "checkpoint.pt"));
}

TEST(Trainer, SelectByAndClippingAreValidatedWithoutAValidationSplit) {
  // No validation split: train.select_by is still checked against what the
  // objective reports, before anything is trained.
  Fixture f;
  testing::TempDir dir;
  Config c = base_config();
  c.set("train.epochs", int64_t{1});
  c.set("train.select_by", std::string("fid"));
  try {
    train(dir.path(), c, f, false);
    ADD_FAILURE() << "train.select_by = fid was accepted without a validation split";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'fid'"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(file_exists(dir / "checkpoint.pt"));
  // A clipping norm that is not a finite number >= 0 would silently turn
  // clipping off.
  for (double bad : {std::nan(""), -1.0, std::numeric_limits<double>::infinity()}) {
    Config clip = base_config();
    clip.set("train.clip_grad_norm", bad);
    Independent model(IndependentOptions().shape({1, 4, 4}));
    EXPECT_THROW(LikelihoodObjective(model.ptr(), clip), Error) << bad;
  }
}

TEST(Trainer, AStepMayTakeSeveralBatchesAndEpochsRollOverInsideIt) {
  // An objective that takes 3 batches per step (as k = 2 discriminator
  // updates and one generator update would) on 8 batches per epoch: steps
  // end after batches 3, 6, 9 (= epoch 2, batch 1), ... The trainer counts
  // steps, ends an epoch when its last batch was taken, even inside a step,
  // and logs every metric the objective returns.
  struct ThreeBatches : Objective {
    explicit ThreeBatches(ModulePtr m, int k = 3) : model(std::move(m)), k(k) {}
    Metrics step(BatchSource& batches) override {
      double rows = 0;
      for (int i = 0; i < k; ++i) rows += static_cast<double>(batches.next().size(0));
      ++steps;
      // g_loss only every other step, as a GAN may report it.
      if (steps % 2 == 1) return {{"d_loss", rows}};
      return {{"d_loss", rows}, {"g_loss", -rows}};
    }
    Metrics evaluate(const Examples&, int64_t) override { return {{"score", 1.0 + ++evaluations}}; }
    std::vector<std::string> held_out_metrics() const override { return {"score"}; }
    std::vector<std::string> progress_metrics() const override { return {"d_loss", "g_loss"}; }
    void begin_epoch(int64_t epoch) override { epochs_begun.push_back(epoch); }
    void begin_step(int64_t done) override { steps_begun.push_back(done); }
    void scale_learning_rates(double) override {}
    void save(torch::serialize::OutputArchive&) const override {}
    void load(torch::serialize::InputArchive&) override {}
    ModulePtr model;
    int k;
    int64_t steps = 0, evaluations = 0;
    std::vector<int64_t> epochs_begun, steps_begun;
  };
  Fixture f;
  f.data.validation = f.transform->for_eval(f.raw.slice(0, 40, 60), 2);
  testing::TempDir dir;
  Config c = base_config();
  c.set("train.steps", int64_t{6});  // 18 batches: 2 epochs of 8 and 2 more
  c.set("train.log_every", int64_t{1});
  c.set("train.select_by", std::string("score"));
  Independent model(IndependentOptions().shape({1, 4, 4}));
  ThreeBatches objective(model.ptr());
  Trainer trainer(TrainerOptions::from_config(c), dir.path(), model.ptr(), objective, f.data, c.to_toml());
  auto s = trainer.run(false);
  EXPECT_EQ(s.state.global_step, 6);
  EXPECT_EQ(objective.steps, 6);
  EXPECT_EQ(s.state.epoch, 2);
  EXPECT_EQ(s.state.batch_in_epoch, 2);
  EXPECT_EQ(objective.steps_begun, (std::vector<int64_t>{0, 1, 2, 3, 4, 5}));
  // begin_epoch comes before the first step that starts in an epoch; the
  // last step started in epoch 1 and ended in epoch 2.
  EXPECT_EQ(objective.epochs_begun, (std::vector<int64_t>{0, 1}));
  // Two epoch lines, each with both losses' means, each over the steps
  // that reported it; step lines carry what their step returned. The run
  // stopped right after the step that ended epoch 2, so that model is
  // scored once (no "final" line repeating it).
  int epochs = 0, steps = 0, finals = 0;
  std::stringstream lines(read_file(dir / "metrics.jsonl"));
  for (std::string line; std::getline(lines, line);) {
    auto j = nlohmann::json::parse(line);
    if (j["event"] == "epoch") {
      ++epochs;
      // Epoch 1: steps 1-3 took 48 rows each (the 8th batch has 8 rows: step 3
      // took 16 + 8 + 16); g_loss came from step 2 only.
      if (epochs == 1) {
        EXPECT_DOUBLE_EQ(j["train_d_loss"].get<double>(), (48.0 + 48.0 + 40.0) / 3) << line;
        EXPECT_DOUBLE_EQ(j["train_g_loss"].get<double>(), -48.0) << line;
      }
      EXPECT_TRUE(j.contains("train_g_loss")) << line;
      EXPECT_TRUE(j.contains("val_score")) << line;
    }
    if (j["event"] == "step") {
      ++steps;
      EXPECT_TRUE(j.contains("d_loss")) << line;
      EXPECT_EQ(j.contains("g_loss"), j["step"].get<int64_t>() % 2 == 0) << line;
    }
    if (j["event"] == "final") ++finals;
  }
  EXPECT_EQ(epochs, 2);
  EXPECT_EQ(steps, 6);
  EXPECT_EQ(finals, 0);

  // A step that spans more than one epoch end cannot have its epochs
  // evaluated: refused. Batches of 60 rows: 2 per epoch, 5 per step.
  testing::TempDir dir2;
  Config big = c;
  big.set("train.batch_size", int64_t{60});
  Independent model2(IndependentOptions().shape({1, 4, 4}));
  ThreeBatches five(model2.ptr(), 5);
  Trainer t2(TrainerOptions::from_config(big), dir2.path(), model2.ptr(), five, f.data, big.to_toml());
  try {
    t2.run(false);
    ADD_FAILURE() << "a step spanning two epoch ends was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("more than a whole epoch"), std::string::npos) << e.what();
  }
}

TEST(Trainer, EachBatchComesWithTheLabelsOfItsOwnRows) {
  // Row i holds the value i and has label 1000 + i: over shuffled epochs,
  // a partial last batch and a rollover inside a step, labels() is always
  // the labels of the rows next() returned, and per-batch noise (here a
  // shift by the batch number) does not reorder them.
  TrainData data;
  data.train = torch::arange(23, torch::kFloat).view({23, 1, 1, 1});
  data.train_labels = torch::arange(23, torch::kLong) + 1000;
  data.batch = [](const torch::Tensor& rows, int64_t epoch, int64_t batch) {
    return rows + 100.0 * static_cast<double>(epoch * 10 + batch);
  };
  TrainerState state;
  EpochBatches batches(data, 5, 7, state);  // 5 batches per epoch, the last of 3 rows
  EXPECT_FALSE(FixedBatch(data.train).labels().defined());
  std::vector<int64_t> seen;
  for (int b = 0; b < 12; ++b) {  // into the third epoch, rolling over twice
    const bool rolls = state.batch_in_epoch == batches.per_epoch();  // this next() starts the next epoch
    const int64_t epoch = rolls ? state.epoch + 1 : state.epoch, index = rolls ? 0 : state.batch_in_epoch;
    auto x = batches.next();
    auto y = batches.labels();
    ASSERT_TRUE(y.defined());
    auto rows = (x.flatten() - 100.0 * static_cast<double>(epoch * 10 + index)).round().to(torch::kLong);
    EXPECT_TRUE(torch::equal(y, rows + 1000)) << "batch " << b;
    if (state.epoch == 0) for (int64_t i = 0; i < rows.size(0); ++i) seen.push_back(rows[i].item<int64_t>());
  }
  std::sort(seen.begin(), seen.end());
  EXPECT_EQ(seen.size(), 23u);
  for (int64_t i = 0; i < 23; ++i) EXPECT_EQ(seen[static_cast<size_t>(i)], i);
  EXPECT_EQ(batches.rollovers(), 2);
}

TEST(Trainer, PatienceCountsEpochsThatEndInsideAStep) {
  // Three batches per step over 8 per epoch, validation score rising every
  // evaluation: the first epoch is the best and patience 1 stops the run
  // after epoch 2, although epoch 2 ended inside a step.
  struct Worsening : Objective {
    Metrics step(BatchSource& batches) override {
      for (int i = 0; i < 3; ++i) batches.next();
      return {{"loss", 0.0}};
    }
    Metrics evaluate(const Examples&, int64_t) override { return {{"score", static_cast<double>(++calls)}}; }
    std::vector<std::string> held_out_metrics() const override { return {"score"}; }
    std::vector<std::string> progress_metrics() const override { return {"loss"}; }
    void scale_learning_rates(double) override {}
    void save(torch::serialize::OutputArchive&) const override {}
    void load(torch::serialize::InputArchive&) override {}
    int64_t calls = 0;
  };
  Fixture f;
  f.data.validation = f.transform->for_eval(f.raw.slice(0, 40, 60), 2);
  f.data.test = torch::Tensor();
  testing::TempDir dir;
  Config c = base_config();
  c.set("train.epochs", int64_t{10});
  c.set("train.patience", int64_t{1});
  c.set("train.select_by", std::string("score"));
  Independent model(IndependentOptions().shape({1, 4, 4}));
  Worsening objective;
  Trainer trainer(TrainerOptions::from_config(c), dir.path(), model.ptr(), objective, f.data, c.to_toml());
  auto s = trainer.run(false);
  EXPECT_TRUE(s.stopped_early);
  EXPECT_EQ(s.state.best_epoch, 1);
  EXPECT_EQ(s.state.epoch, 2);
}

// Each step adds the learning rate to every logit; a rate of 0.4 or more
// makes the step's loss NaN (or, with `big`, 1e6): the trainer must undo
// the step's change, lower the rate and go on.
struct Fragile : Objective {
  explicit Fragile(Independent m, bool big = false) : model(std::move(m)), big(big) {}
  Metrics step(BatchSource& batches) override {
    batches.next();
    torch::NoGradGuard no_grad;
    model->logits.add_(lr);
    const double loss = lr < 0.4 ? 1.0 : big ? 1e6 : std::nan("");
    return {{"loss", loss}};
  }
  Metrics evaluate(const Examples&, int64_t) override { return {{"score", 1.0}}; }
  std::vector<std::string> held_out_metrics() const override { return {"score"}; }
  std::vector<std::string> progress_metrics() const override { return {"loss"}; }
  void scale_learning_rates(double factor) override { lr *= factor; }
  void save(torch::serialize::OutputArchive&) const override {}
  void load(torch::serialize::InputArchive&) override {}
  Independent model;
  bool big;
  double lr = 1.0;
};

TEST(Trainer, RollsBackADivergenceToTheLastCheckpointAtLowerRates) {
  Fixture f;
  testing::TempDir dir;
  Config c = base_config();
  c.set("train.steps", int64_t{3});
  c.set("train.select_by", std::string("score"));
  c.set("train.rollbacks", int64_t{2});
  {
    torch::manual_seed(0);
    Independent model(IndependentOptions().shape({1, 4, 4}));
    const auto start = model->logits.detach().clone();
    Fragile objective(model);
    Trainer trainer(TrainerOptions::from_config(c), dir.path(), model.ptr(), objective, f.data, c.to_toml());
    auto s = trainer.run(false);
    // Rates 1 and 0.5 diverged and were rolled back to step 0; three steps at 0.25.
    EXPECT_EQ(s.state.rollbacks, 2);
    EXPECT_EQ(s.state.global_step, 3);
    EXPECT_DOUBLE_EQ(objective.lr, 0.25);
    EXPECT_TRUE(torch::allclose(model->logits, start + 0.75));
    int events = 0;
    std::istringstream lines(read_file(dir / "metrics.jsonl"));
    for (std::string line; std::getline(lines, line);) {
      auto j = nlohmann::json::parse(line);
      if (j["event"] == "rollback") {
        ++events;
        EXPECT_EQ(j["step"], 0);
        EXPECT_DOUBLE_EQ(j["lr_factor"].get<double>(), events == 1 ? 0.5 : 0.25);
      }
    }
    EXPECT_EQ(events, 2);
  }
  {
    // A resume continues at the lowered rate: no divergence, no rollback.
    Config more = c;
    more.set("train.steps", int64_t{5});
    more.set("train.rollbacks", int64_t{0});
    Independent model(IndependentOptions().shape({1, 4, 4}));
    Fragile objective(model);
    Trainer trainer(TrainerOptions::from_config(more), dir.path(), model.ptr(), objective, f.data, more.to_toml());
    auto s = trainer.run(true);
    EXPECT_DOUBLE_EQ(objective.lr, 0.25);
    EXPECT_EQ(s.state.global_step, 5);
    EXPECT_EQ(s.state.rollbacks, 2);
  }
}

// What a rollback asks of a real objective: after scale_learning_rates(f)
// and the epoch's schedule, one SGD step moves the parameters f times as far.
TEST(Trainer, ScaledLearningRatesScaleTheStep) {
  Fixture f;
  Config c = base_config();
  auto x = f.data.train.slice(0, 0, 16);
  auto moved = [&](double factor) {
    torch::manual_seed(0);
    Independent model(IndependentOptions().shape({1, 4, 4}));
    const auto start = model->logits.detach().clone();
    LikelihoodObjective objective(model.ptr(), c);
    if (factor != 1.0) objective.scale_learning_rates(factor);
    objective.begin_epoch(0);
    FixedBatch batch(x);
    objective.step(batch);
    return (model->logits.detach() - start);
  };
  auto full = moved(1.0), half = moved(0.5);
  EXPECT_GT(full.abs().max().item<double>(), 1e-4);
  EXPECT_TRUE(torch::allclose(half, 0.5 * full, 1e-5, 1e-8));
}

TEST(Trainer, OutOfRollbacksOrBeyondTheBoundStopsAsADivergence) {
  Fixture f;
  for (bool big : {false, true}) {
    testing::TempDir dir;
    Config c = base_config();
    c.set("train.steps", int64_t{3});
    c.set("train.select_by", std::string("score"));
    c.set("train.rollbacks", int64_t{1});  // 1 -> 0.5 still diverges
    if (big) c.set("train.diverge_above", 1e5);
    Independent model(IndependentOptions().shape({1, 4, 4}));
    Fragile objective(model, big);
    Trainer trainer(TrainerOptions::from_config(c), dir.path(), model.ptr(), objective, f.data, c.to_toml());
    try {
      trainer.run(false);
      ADD_FAILURE() << "no divergence";
    } catch (const TrainingDiverged& e) {
      EXPECT_NE(std::string(e.what()).find(big ? "diverge_above" : "loss became"), std::string::npos) << e.what();
    }
    EXPECT_DOUBLE_EQ(objective.lr, 0.5);
  }
  // Without a bound, 1e6 is just a number.
  testing::TempDir dir;
  Config c = base_config();
  c.set("train.steps", int64_t{2});
  c.set("train.select_by", std::string("score"));
  Independent model(IndependentOptions().shape({1, 4, 4}));
  Fragile objective(model, true);
  Trainer trainer(TrainerOptions::from_config(c), dir.path(), model.ptr(), objective, f.data, c.to_toml());
  EXPECT_EQ(trainer.run(false).state.global_step, 2);
  for (auto [key, value] : {std::pair<const char*, double>{"train.rollback_lr_factor", 1.0},
                            {"train.rollback_lr_factor", 0.0},
                            {"train.diverge_above", -1.0}}) {
    Config bad = base_config();
    bad.set(key, value);
    try {
      TrainerOptions::from_config(bad);
      ADD_FAILURE() << key << " = " << value;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(key), std::string::npos) << e.what();
    }
  }
}

TEST(Checkpoint, RoundTripRestoresModelOptimizerPositionAndRng) {
  testing::TempDir dir;
  torch::manual_seed(1);
  Independent model(IndependentOptions().shape({1, 2, 2}));
  Config c;
  c.set("optim.lr", 0.1);
  LikelihoodObjective objective(model.ptr(), c);
  FixedBatch ones(torch::ones({3, 1, 2, 2}));
  objective.step(ones);  // Adam now has moment estimates
  TrainerState s{4, 2, 17, 12.5, 101.25, 3, 15};
  torch::manual_seed(8);
  save_checkpoint(dir.path(), *model, &objective, s, "x = 1\n");
  auto after_save = torch::rand({3});

  Independent other(IndependentOptions().shape({1, 2, 2}));
  Config c2;
  c2.set("optim.lr", 0.1);
  LikelihoodObjective other_objective(other.ptr(), c2);
  TrainerState r = load_checkpoint(checkpoint_path(dir.path()), *other, &other_objective);
  EXPECT_EQ(r.epoch, 4);
  EXPECT_EQ(r.batch_in_epoch, 2);
  EXPECT_EQ(r.global_step, 17);
  EXPECT_DOUBLE_EQ(r.elapsed_seconds, 12.5);
  EXPECT_DOUBLE_EQ(r.best_score, 101.25);
  EXPECT_EQ(r.best_epoch, 3);
  EXPECT_EQ(r.best_step, 15);
  EXPECT_TRUE(torch::equal(other->logits, model->logits));
  EXPECT_TRUE(torch::equal(torch::rand({3}), after_save));  // RNG restored
  // Same optimizer state: one more identical step gives identical weights.
  FixedBatch zeros(torch::zeros({3, 1, 2, 2}));
  objective.step(zeros);
  other_objective.step(zeros);
  EXPECT_TRUE(torch::equal(other->logits, model->logits));
}

TEST(Checkpoint, CorruptOrForeignFilesAreErrors) {
  testing::TempDir dir;
  Independent model(IndependentOptions().shape({1, 2, 2}));
  testing::write_bytes(dir / "junk.pt", "not a checkpoint at all");
  EXPECT_THROW(load_checkpoint(dir / "junk.pt", *model, nullptr), Error);
  EXPECT_THROW(load_checkpoint(dir / "missing.pt", *model, nullptr), Error);
  save_checkpoint(dir.path(), *model, nullptr, {}, "");
  std::string bytes = read_file(checkpoint_path(dir.path()));
  testing::write_bytes(dir / "truncated.pt", bytes.substr(0, bytes.size() / 2));
  EXPECT_THROW(load_checkpoint(dir / "truncated.pt", *model, nullptr), Error);
  Independent bigger(IndependentOptions().shape({1, 3, 3}));
  EXPECT_THROW(load_checkpoint(checkpoint_path(dir.path()), *bigger, nullptr), Error);
}

}  // namespace
}  // namespace genzoo
