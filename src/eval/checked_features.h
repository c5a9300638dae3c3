#pragma once
// Private to src/eval: the argument check every feature-space metric makes.
#include <torch/torch.h>

#include <string>

#include "genzoo/core/error.h"

namespace genzoo::detail {

/// features [N, F] with N >= min_rows, all finite -> double [N, F];
/// genzoo::Error naming `where` otherwise.
inline torch::Tensor checked_features(const torch::Tensor& x, const std::string& where, int64_t min_rows) {
  if (!x.defined() || x.dim() != 2 || x.size(0) < min_rows || x.size(1) == 0)
    throw Error(c10::str(where, ": expected features [N, F] with N >= ", min_rows, ", got ",
                         x.defined() ? c10::str(x.sizes()) : std::string("undefined")));
  auto xd = x.to(torch::kFloat64);  // [N, F]
  if (!torch::isfinite(xd).all().item<bool>()) throw Error(where + ": features must be finite");
  return xd;
}

}  // namespace genzoo::detail
