#include "genzoo/train/objective.h"

#include <cmath>

#include "genzoo/core/error.h"

namespace genzoo {

double clip_grad_norm_from_config(Config& config) {
  const double clip = config.get_double("train.clip_grad_norm", 0.0);
  if (!(clip >= 0) || !std::isfinite(clip))
    throw Error("config key 'train.clip_grad_norm' must be a finite number >= 0 (0 = no clipping), got " +
                std::to_string(clip));
  return clip;
}

}  // namespace genzoo
