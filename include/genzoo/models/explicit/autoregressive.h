#pragma once
// Pieces shared by the autoregressive models over binary pixels (FVSBN, NADE,
// MADE). Each writes log p(x) by the chain rule,
//   log p(x) = sum_i log p(x_i | x_<i),   p(x_i = 1 | x_<i) = sigmoid(l_i(x_<i)),
// and computes it from the logits l_i, never from a clipped probability.
#include <torch/torch.h>

#include <string>
#include <vector>

#include "genzoo/models/model.h"
#include "genzoo/models/bernoulli.h"
#include "genzoo/models/shapes.h"

namespace genzoo {

/// The ModelInfo of an explicit-density model of binary images of any size
/// and channel count, with `capabilities`; the caller sets `create`.
ModelInfo binary_density_info(const std::string& name, const std::string& description, Capabilities capabilities);

/// Nothing observed: the mask with which complete() becomes ancestral sampling, [1, D].
torch::Tensor nothing_observed(int64_t dims);

/// For the models with one ordering, raster order (FVSBN, NADE): checks
/// that `ordering` is 0 (a TORCH_CHECK naming `who`) ...
void check_one_ordering(int64_t ordering, const char* who);
/// ... and gives the rank of pixel d, which is d: int64 [dims].
torch::Tensor raster_rank(int64_t dims, int64_t ordering, const char* who);

/// Completer::completion_is_exact of a raster-order model of `dims` pixels:
/// every observed pixel precedes every missing one; `observed` as complete() takes it.
bool raster_completion_is_exact(const torch::Tensor& observed, int64_t dims, const char* who);

/// True when in every row every observed pixel comes before every missing one
/// in `order` (order[k] = the pixel generated k-th): observed [N, D] bool.
bool observed_first(const torch::Tensor& observed, const torch::Tensor& order);

}  // namespace genzoo
