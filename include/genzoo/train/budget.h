#pragma once
// How much a run may train: epochs, optimisation steps (Objective::step
// calls; a step may consume several batches) and wall time, whichever is
// reached first. A budget with every limit at zero takes no step at all.
#include <cstdint>

#include "genzoo/train/checkpoint.h"

namespace genzoo {

struct Budget {
  int64_t epochs = 0;  // 0 = no epoch limit
  int64_t steps = 0;   // 0 = no step limit
  double seconds = 0;  // 0 = no time limit

  /// No limit set at all: the run trains nothing.
  bool zero() const { return epochs == 0 && steps == 0 && seconds == 0; }
  /// True once any limit is reached (or when the budget is zero); `elapsed`
  /// is the training time used so far, across resumes.
  bool spent(const TrainerState& state, double elapsed) const;
  /// The share of the tightest limit used, in [0, 1]; -1 when no limit is set.
  double fraction(const TrainerState& state, int64_t batches_per_epoch, double elapsed) const;
};

}  // namespace genzoo
