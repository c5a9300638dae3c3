#include "genzoo/models/explicit/autoregressive.h"

#include "genzoo/models/shapes.h"

namespace genzoo {

ModelInfo binary_density_info(const std::string& name, const std::string& description, Capabilities capabilities) {
  ModelInfo info;
  info.name = name;
  info.family = "explicit";
  info.description = description;
  info.capabilities = std::move(capabilities);
  info.accepts.formats = {PixelFormat::Binary};
  return info;
}

torch::Tensor nothing_observed(int64_t dims) { return torch::zeros({1, dims}, torch::kBool); }

void check_one_ordering(int64_t ordering, const char* who) {
  TORCH_CHECK(ordering == 0, who, ": has one ordering (raster order), got ordering ", ordering);
}

torch::Tensor raster_rank(int64_t dims, int64_t ordering, const char* who) {
  check_one_ordering(ordering, who);
  return torch::arange(dims, torch::kInt64);
}

bool observed_first(const torch::Tensor& observed, const torch::Tensor& order) {
  auto in_order = observed.index_select(1, order).to(torch::kInt32);  // [N, D]
  // Observed-first means the row is non-increasing along the order.
  if (in_order.size(1) < 2) return true;
  auto rises = in_order.slice(1, 1) > in_order.slice(1, 0, -1);
  return !rises.any().item<bool>();
}

bool raster_completion_is_exact(const torch::Tensor& observed, int64_t dims, const char* who) {
  return observed_first(flatten_observed(observed, observed.size(0), dims, who), torch::arange(dims));
}

}  // namespace genzoo
