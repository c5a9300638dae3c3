#pragma once
// Checkpoints: model parameters and buffers, the objective's optimizer state,
// the trainer's position, the global RNG state and the resolved config, in
// one torch archive. Written to a temporary file and renamed into place; the
// previous checkpoint is kept as checkpoint.prev.pt. With a validation split
// (train.validation), the model with the best validation score so far is
// also kept, as best.pt.
#include <torch/torch.h>

#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "genzoo/train/objective.h"

namespace genzoo {

struct TrainerState {
  int64_t epoch = 0;            // current epoch (0-based)
  int64_t batch_in_epoch = 0;   // next batch to run within `epoch`
  int64_t global_step = 0;      // optimisation steps done
  double elapsed_seconds = 0;   // training time used, across resumes
  // Validation: the best score so far (lower is better; infinity: none yet),
  // the epochs done when it was reached (a partial epoch, at a mid-epoch
  // stop, counts as done) and the step.
  double best_score = std::numeric_limits<double>::infinity();
  int64_t best_epoch = 0;
  int64_t best_step = 0;
  // Divergences rolled back so far (train.rollbacks): each has multiplied
  // the learning rates by train.rollback_lr_factor, so a resumed run
  // continues at the lowered rates.
  int64_t rollbacks = 0;
  // Length of RUN/metrics.jsonl when this checkpoint was written (-1:
  // unknown, a checkpoint from before it was kept). A resume cuts the file
  // back to it: the lines after it belong to steps the resume does again.
  int64_t metrics_bytes = -1;
  // The step at which the last epoch ended (-1: none yet), and the step of
  // the model last scored, at an epoch's end or at a mid-epoch stop: a
  // resume knows whether the grid and the scores of that moment were made.
  int64_t epoch_end_step = -1;
  int64_t scored_step = -1;
  // The running sums (and counts) of each step metric over the epoch so far,
  // so that an epoch's logged train means are exact across a resume.
  std::vector<std::pair<std::string, double>> epoch_sums, epoch_counts;
};

std::string checkpoint_path(const std::string& run_dir);       // RUN/checkpoint.pt
std::string previous_checkpoint_path(const std::string& run_dir);  // RUN/checkpoint.prev.pt
std::string best_checkpoint_path(const std::string& run_dir);      // RUN/best.pt

/// Saves atomically; the existing checkpoint becomes the previous one.
/// `objective` may be null (model only).
void save_checkpoint(const std::string& run_dir, torch::nn::Module& model,
                     const Objective* objective, const TrainerState& state,
                     const std::string& config_toml);

/// Saves the model (no optimizer state) as RUN/best.pt, atomically.
void save_best_checkpoint(const std::string& run_dir, torch::nn::Module& model, const TrainerState& state,
                          const std::string& config_toml);

/// Loads into `model` (and `objective` unless null) and restores the global
/// RNG state; returns the trainer position. A missing, truncated or foreign
/// file is a genzoo::Error naming it.
TrainerState load_checkpoint(const std::string& path, torch::nn::Module& model,
                             Objective* objective);

}  // namespace genzoo
