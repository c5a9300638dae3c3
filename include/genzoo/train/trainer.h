#pragma once
// The generic training loop: budgets (epochs, steps, wall time), seeded
// batches, per-batch data noise, logging to metrics.jsonl, a progress bar,
// periodic sample grids, atomic checkpoints, exact resume, a NaN guard, and
// with a validation split: the best model kept (best.pt) and early stopping.
// The family-specific step lives in the Objective.
#include <torch/torch.h>

#include <functional>
#include <string>

#include "genzoo/core/config.h"
#include "genzoo/models/model.h"
#include "genzoo/train/checkpoint.h"
#include "genzoo/train/objective.h"

namespace genzoo {

/// Data as the model sees it.
struct TrainData {
  torch::Tensor train;  // prepared training rows [N, ...]
  torch::Tensor test;   // fixed evaluation rows [M, ...]
  /// Rows held out of the training split (train.validation), prepared like
  /// `test`; undefined when there is none.
  torch::Tensor validation;
  /// Per-batch randomness (dynamic binarization, dequantization) for rows of
  /// batch `batch` of epoch `epoch`; identity when unset.
  std::function<torch::Tensor(const torch::Tensor&, int64_t, int64_t)> batch;
  /// Model-space samples -> float images [N, C, H, W] in [0, 1] for grids;
  /// unset when samples are not images.
  std::function<torch::Tensor(const torch::Tensor&)> to_display;
};

/// Budget and bookkeeping, read from the config:
///   train.epochs, train.steps, train.time_limit (seconds; 0 = none; the run
///   stops at the first budget reached; with none of the keys present,
///   train.epochs = 10; all present and zero: no step is taken),
///   train.batch_size (100), train.seed (0), train.log_every (steps, 100),
///   train.sample_every (epochs, 1; 0 = only at the end), train.sample_count (64),
///   train.checkpoint_seconds (300: mid-epoch checkpoints on long epochs),
///   train.eval_batch_size (1000).
/// With a validation split (train.validation > 0, see run.h), after every
/// epoch and at the end of training the model is scored on it by the
/// held-out metric train.select_by ("nll", lower is better); the best so far
/// is saved as RUN/best.pt. train.patience (epochs, 0 = off) stops training
/// once that many epochs have passed without a better validation score.
struct TrainerOptions {
  int64_t epochs = 0, steps = 0;
  double time_limit = 0;
  int64_t batch_size = 100;
  uint64_t seed = 0;
  int64_t log_every = 100;
  int64_t sample_every = 1;
  int64_t sample_count = 64;
  double checkpoint_seconds = 300;
  int64_t eval_batch_size = 1000;
  int64_t patience = 0;
  std::string select_by = "nll";
  static TrainerOptions from_config(Config& config);
};

/// Thrown when the loss stops being finite; the last good checkpoint stays.
class TrainingDiverged : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct TrainSummary {
  TrainerState state;
  Metrics last_eval;      // held-out metrics after the last completed epoch
  bool stopped_early = false;  // train.patience ran out
  double wall_seconds = 0;  // this invocation
};

class Trainer {
 public:
  Trainer(TrainerOptions options, std::string run_dir, ModulePtr model, Objective& objective,
          TrainData data, std::string config_toml);

  /// Runs until the budget is spent. With `resume`, first restores the
  /// checkpoint in the run folder. Progress goes to stderr.
  TrainSummary run(bool resume);

 private:
  void write_samples(const std::string& name);
  /// Saves checkpoint.pt, and best.pt first when `best`; refuses non-finite weights.
  void checkpoint(bool best = false);
  /// Scores the model on the validation split (empty without one); a better
  /// score than any before is recorded in the state and sets `improved`.
  Metrics validate(bool& improved);
  bool has_validation() const;
  /// TrainingDiverged for `what`, saying the last good checkpoint is kept.
  TrainingDiverged diverged(const std::string& what) const;
  /// The entry of `m` named by train.select_by; genzoo::Error when absent.
  Metrics::const_iterator selected(const Metrics& m) const;
  void log_json(const std::string& line);

  TrainerOptions options_;
  std::string run_dir_;
  ModulePtr model_;
  Objective& objective_;
  TrainData data_;
  std::string config_toml_;
  TrainerState state_;
};

}  // namespace genzoo
