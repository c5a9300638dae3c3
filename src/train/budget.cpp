#include "genzoo/train/budget.h"

#include <algorithm>

namespace genzoo {

bool Budget::spent(const TrainerState& s, double elapsed) const {
  if (zero()) return true;
  if (epochs > 0 && s.epoch >= epochs) return true;
  if (steps > 0 && s.global_step >= steps) return true;
  return seconds > 0 && elapsed >= seconds;
}

double Budget::fraction(const TrainerState& s, int64_t batches_per_epoch, double elapsed) const {
  double f = -1;
  if (epochs > 0)
    f = std::max(f, (s.epoch + static_cast<double>(s.batch_in_epoch) / static_cast<double>(batches_per_epoch)) /
                        static_cast<double>(epochs));
  if (steps > 0) f = std::max(f, static_cast<double>(s.global_step) / static_cast<double>(steps));
  if (seconds > 0) f = std::max(f, elapsed / seconds);
  return std::min(f, 1.0);
}

}  // namespace genzoo
