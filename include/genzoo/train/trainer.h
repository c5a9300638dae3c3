#pragma once
// The generic training loop: budgets (epochs, steps, wall time), seeded
// batches, per-batch data noise, logging to metrics.jsonl, a progress bar,
// periodic sample grids, atomic checkpoints, exact resume, a NaN guard, and
// with a validation split: the best model kept (best.pt) and early stopping.
// The family-specific step lives in the Objective.
#include <torch/torch.h>

#include <functional>
#include <memory>
#include <string>

#include "genzoo/core/config.h"
#include "genzoo/core/timer.h"
#include "genzoo/data/batches.h"
#include "genzoo/models/model.h"
#include "genzoo/report/progress.h"
#include "genzoo/train/budget.h"
#include "genzoo/train/checkpoint.h"
#include "genzoo/train/distributed.h"
#include "genzoo/train/objective.h"

namespace genzoo {

/// Data as the model sees it.
struct TrainData {
  torch::Tensor train;  // prepared training rows [N, ...]
  torch::Tensor test;   // fixed evaluation rows [M, ...]
  /// Rows held out of the training split (train.validation), prepared like
  /// `test`; undefined when there is none.
  torch::Tensor validation;
  /// The class labels of each split, int64 [N]; undefined when the data
  /// have none.
  torch::Tensor train_labels, test_labels, validation_labels;
  /// Per-batch randomness (dynamic binarization, dequantization) for rows of
  /// batch `batch` of epoch `epoch`; identity when unset.
  std::function<torch::Tensor(const torch::Tensor&, int64_t, int64_t)> batch;
  /// Model-space samples -> float images [N, C, H, W] in [0, 1] for grids;
  /// unset when samples are not images.
  std::function<torch::Tensor(const torch::Tensor&)> to_display;
  /// 2-D points [N, 2] -> a scatter plot, float RGB [3, S, S] in [0, 1],
  /// over the true mixture centres where the data have them; unset for
  /// images. The trainer's sample "grids" of a points run are these, of
  /// kPlotPoints samples.
  std::function<torch::Tensor(const torch::Tensor&)> plot;
};

/// Samples in the scatter plots of points runs: the 2,500 of the mode
/// metrics' protocol.
constexpr int64_t kPlotPoints = 2500;

/// Budget and bookkeeping, read from the config:
///   train.epochs, train.steps, train.time_limit (seconds; 0 = none; the run
///   stops at the first budget reached; with none of the keys present,
///   train.epochs = 10; all present and zero: no step is taken). A step is
///   one Objective::step: one batch for the likelihood objective, k for
///   an adversarial one with k discriminator updates per generator update
///   (each on a fresh batch; the generator's update draws only noise);
///   an epoch is one pass over the training split, however the steps
///   divide it (a step that needs more batches than its epoch has left
///   ends that epoch and starts the next, so an epoch budget may be passed
///   by up to the batches of one step; a step may not span more than one
///   epoch end).
///   train.batch_size (100), train.seed (0), train.log_every (steps, 100),
///   train.sample_every (epochs, 1; 0 = only at the end), train.sample_count (64),
///   train.checkpoint_seconds (300: mid-epoch checkpoints on long epochs),
///   train.eval_batch_size (1000).
/// With a validation split (train.validation > 0, see run.h), after every
/// epoch and at the end of training the model is scored on it by the
/// held-out metric train.select_by (one of the objective's
/// held_out_metrics(), "nll" for likelihood; lower is better); the best so
/// far is saved as RUN/best.pt. train.patience (epochs, 0 = off) stops
/// training once that many epochs have passed without a better validation
/// score.
struct TrainerOptions {
  Budget budget;
  int64_t batch_size = 100;
  uint64_t seed = 0;
  int64_t log_every = 100;
  int64_t sample_every = 1;
  int64_t sample_count = 64;
  double checkpoint_seconds = 300;
  int64_t eval_batch_size = 1000;
  int64_t patience = 0;
  std::string select_by = "nll";
  /// Divergences (a non-finite loss, parameter or score, or a step metric
  /// beyond diverge_above) to recover from by rolling back to the last
  /// checkpoint with the learning rates times rollback_lr_factor; 0 = stop
  /// at the first (exit 3).
  int64_t rollbacks = 0;
  double rollback_lr_factor = 0.5;
  /// |step metric| above this counts as a divergence (energies running
  /// away); 0 = no bound.
  double diverge_above = 0;
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

/// The trainer's BatchSource: the batches of the shuffled training split
/// (BatchSampler order), each with its per-batch noise, advancing the run's
/// position `state` (epoch, batch_in_epoch) as they are taken.
///
/// Data-parallel (world > 1): `batch_size` is the global batch. Every
/// worker draws the same global batch, applies its per-batch noise to all of
/// it (so the noise does not depend on the number of workers), and keeps
/// its own contiguous share of the rows: worker r of W takes rows
/// [n r / W, n (r + 1) / W) of a batch of n, so across the workers each
/// example is used exactly once per epoch. Every share has at least
/// kMinShardRows rows (a GAN's packs, a diversity check need a few): a
/// batch must have that many per worker, and a last batch with fewer joins
/// the batch before it.
/// Its share of the rows weighs its gradients (ProcessGroup::set_share).
constexpr int64_t kMinShardRows = 8;

class EpochBatches : public BatchSource {
 public:
  EpochBatches(const TrainData& data, int64_t batch_size, uint64_t seed, TrainerState& state, int64_t rank = 0,
               int64_t world = 1);
  torch::Tensor next() override;
  torch::Tensor labels() const override { return labels_; }
  int64_t per_epoch() const { return sampler_.batches_per_epoch() - (merge_tail_ ? 1 : 0); }
  /// Examples handed out so far, by all the workers together.
  int64_t examples() const { return examples_; }
  /// Epoch boundaries crossed inside next(): by a step that took more
  /// batches than its epoch had left.
  int64_t rollovers() const { return rollovers_; }

 private:
  const TrainData& data_;
  BatchSampler sampler_;
  TrainerState& state_;
  torch::Tensor labels_;  // of the last batch
  int64_t examples_ = 0, rollovers_ = 0;
  int64_t rank_ = 0, world_ = 1;
  bool merge_tail_ = false;
};

/// Where worker `rank` of a run keeps its checkpoint: the run folder for
/// rank 0 (and a run of one process), RUN/workers/rank-R for the others
/// (their replay buffers, persistent chains and random streams are their
/// own; the parameters are rank 0's).
std::string worker_dir(const std::string& run_dir, int64_t rank);

class Trainer {
 public:
  /// Checks the options against the objective and the data (train.select_by
  /// one of the objective's held-out metrics, train.patience only with a
  /// validation split) before anything is trained or written.
  Trainer(TrainerOptions options, std::string run_dir, ModulePtr model, Objective& objective,
          TrainData data, std::string config_toml);
  // EpochBatches refers to this object's data and state.
  Trainer(const Trainer&) = delete;
  Trainer& operator=(const Trainer&) = delete;

  /// Runs until the budget is spent. With `resume`, first restores the
  /// checkpoint in the run folder. Progress goes to stderr.
  TrainSummary run(bool resume);

 private:
  // The steps of run(), in the order they happen.
  void start(bool resume);             // restore a checkpoint, or seed and save the step-0 one
  bool budget_spent() const;           // a limit reached, or train.patience ran out
  /// Recovers from a divergence: the last checkpoint, lower rates, a message.
  void roll_back(const std::string& why);
  Metrics train_step();                // one Objective::step, refused when not finite
  void report_step(const Metrics& m);  // progress line, metrics.jsonl, the epoch's means
  bool epoch_finished() const;         // the step took the epoch's last batch
  void end_epoch();                    // test and validation scores, best.pt, checkpoint, log, samples
  bool checkpoint_due() const;         // train.checkpoint_seconds since the last checkpoint
  void save_mid_epoch();
  TrainSummary finish();               // a partial epoch's validation, the final samples, the summary

  double elapsed() const;  // training seconds across resumes
  bool patience_ran_out() const;
  void write_samples(const std::string& name);
  /// Saves checkpoint.pt, and best.pt first when `best`; refuses non-finite weights.
  void checkpoint(bool best = false);
  /// Scores the model on the validation split (empty without one); a better
  /// score than any before is recorded in the state with `epochs_done`
  /// (a partial epoch counts as done) and sets `improved`.
  Metrics validate(int64_t epochs_done, bool& improved);
  bool has_validation() const;
  /// TrainingDiverged for `what`, saying the last good checkpoint is kept.
  TrainingDiverged diverged(const std::string& what) const;
  /// The entry of `m` named by train.select_by.
  Metrics::const_iterator selected(const Metrics& m) const;
  void log_json(const std::string& line);  // one whole line, or none, even under kill -9
  std::string metrics_path() const;
  void cut_metrics_to_checkpoint();
  void write_missing_epoch_samples();
  void ensure_finite();  // TrainingDiverged when a parameter is not finite
  /// The held-out scores of the model as it stands: the test split's (with
  /// `test`) and the validation split's, with `improved` as validate() sets
  /// it. Data-parallel, rank 0 scores and every worker receives its
  /// figures (and its divergence, thrown on every worker alike).
  void held_out(int64_t epochs_done, bool test, Metrics& eval, Metrics& val, bool& improved);
  void say(const std::string& text);  // a progress line, from rank 0 only
  void align_resumed_workers();       // data-parallel resume: one step for all workers
  bool epoch_samples_due() const;  // the epoch just ended draws a grid
  std::string epoch_samples_name() const;

  TrainerOptions options_;
  std::string run_dir_;
  // Data-parallel: this process's group (null alone), whether it is rank 0
  // (the one that logs, draws and keeps best.pt), and its checkpoint folder.
  ProcessGroup* group_ = nullptr;
  bool primary_ = true;
  std::string state_dir_;
  ModulePtr model_;
  Objective& objective_;
  TrainData data_;
  std::string config_toml_;
  TrainerState state_;

  // This invocation of run().
  TrainSummary summary_;
  std::unique_ptr<EpochBatches> batches_;
  std::unique_ptr<Progress> progress_;
  Clock::time_point started_, last_checkpoint_, window_start_;
  double elapsed_before_ = 0, start_fraction_ = 0, rate_ = 0;
  int64_t start_step_ = 0, window_examples_start_ = 0, rollovers_before_step_ = 0, begun_epoch_ = -1;
  // Per metric of step(), over this epoch's steps (of this invocation): the
  // sum and the number of steps that reported it.
  Metrics epoch_sums_, epoch_counts_;
};

}  // namespace genzoo
