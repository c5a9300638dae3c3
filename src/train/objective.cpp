#include "genzoo/train/objective.h"

#include <cmath>
#include <sstream>

#include "genzoo/core/error.h"

namespace genzoo {

double clip_grad_norm_from_config(Config& config) {
  const double clip = config.get_double("train.clip_grad_norm", 0.0);
  if (!(clip >= 0) || !std::isfinite(clip)) {
    std::ostringstream os;
    os << "config key 'train.clip_grad_norm' must be a finite number >= 0 (0 = no clipping), got " << clip;
    throw Error(os.str());
  }
  return clip;
}

}  // namespace genzoo
