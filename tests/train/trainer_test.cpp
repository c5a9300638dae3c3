#include "genzoo/train/trainer.h"

#include <gtest/gtest.h>

#include "genzoo/core/error.h"
#include "genzoo/core/files.h"
#include "genzoo/core/rng.h"
#include "genzoo/data/transforms.h"
#include "genzoo/models/explicit/independent.h"
#include "genzoo/train/checkpoint.h"
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
  EXPECT_EQ(TrainerOptions::from_config(none).epochs, 10);
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

TEST(Checkpoint, RoundTripRestoresModelOptimizerPositionAndRng) {
  testing::TempDir dir;
  torch::manual_seed(1);
  Independent model(IndependentOptions().shape({1, 2, 2}));
  Config c;
  c.set("optim.lr", 0.1);
  LikelihoodObjective objective(model.ptr(), c);
  objective.step(torch::ones({3, 1, 2, 2}));  // Adam now has moment estimates
  TrainerState s{4, 2, 17, 12.5};
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
  EXPECT_TRUE(torch::equal(other->logits, model->logits));
  EXPECT_TRUE(torch::equal(torch::rand({3}), after_save));  // RNG restored
  // Same optimizer state: one more identical step gives identical weights.
  objective.step(torch::zeros({3, 1, 2, 2}));
  other_objective.step(torch::zeros({3, 1, 2, 2}));
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
