#include "genzoo/models/explicit/arn.h"

#include <cmath>

#include "genzoo/core/error.h"
#include "genzoo/models/bernoulli.h"
#include "genzoo/models/explicit/autoregressive.h"
#include "genzoo/models/shapes.h"

namespace genzoo {

const EnumNames<ArnInit>& arn_init_names() {
  static const EnumNames<ArnInit> names{{ArnInit::Zero, "zero"}, {ArnInit::Counts, "counts"}};
  return names;
}

ArnImpl::ArnImpl(ArnOptions options_) : options(std::move(options_)) { reset(); }

void ArnImpl::reset() {
  TORCH_CHECK(options.shape().size() == 3, "arn: shape must be {C, H, W}");
  TORCH_CHECK(options.order() >= 0 && options.order() <= 20, "arn: order must be in 0..20, got ", options.order());
  table = register_parameter("table", torch::zeros({shape_numel(options.shape()), int64_t{1} << options.order()}));
}

torch::Tensor ArnImpl::contexts(const torch::Tensor& flat) const {
  const int64_t n = options.order(), d = flat.size(1);
  auto bits = torch::nn::functional::pad(flat.to(torch::kLong), torch::nn::functional::PadFuncOptions({n, 0}));  // [N, n + D]
  auto index = torch::zeros({flat.size(0), d}, torch::kLong);
  // x_{i-j} is column n + i - j of the padded row.
  for (int64_t j = 1; j <= n; ++j) index += bits.slice(1, n - j, n - j + d) * (int64_t{1} << (j - 1));
  return index;  // [N, D]
}

void ArnImpl::init_from_counts(const torch::Tensor& data, double smoothing) {
  TORCH_CHECK(smoothing > 0, "arn: smoothing must be > 0");
  const int64_t d = dims(), k = table.size(1);
  auto flat = flatten_pixels(data, d, "arn").to(torch::kFloat64);  // [N, D]
  // Dynamically binarised data arrive as grey probabilities: count one draw
  // of them (from the global stream, seeded by the run).
  if (((flat != 0) & (flat != 1)).any().item<bool>()) flat = torch::bernoulli(flat.clamp(0, 1));
  auto ctx = contexts(flat);                                          // [N, D]
  auto cell = ctx + torch::arange(d, torch::kLong).unsqueeze(0) * k;  // flat (pixel, context) index
  auto seen = torch::bincount(cell.flatten(), {}, d * k).to(torch::kFloat64);
  auto on = torch::bincount(cell.flatten(), flat.flatten(), d * k).to(torch::kFloat64);
  auto p = (on + smoothing) / (seen + 2 * smoothing);
  torch::NoGradGuard no_grad;
  table.copy_((p.log() - (1 - p).log()).view({d, k}));
}

torch::Tensor ArnImpl::conditional_logits(const torch::Tensor& x) {
  auto flat = flatten_pixels(x, dims(), "arn");
  return table.gather(1, contexts(flat).t()).t();  // [N, D]: T[i, k_ni]
}

torch::Tensor ArnImpl::log_prob(const torch::Tensor& x) {
  return bernoulli_log_prob(conditional_logits(x), flatten_pixels(x, dims(), "arn"));
}

torch::Tensor ArnImpl::sample(int64_t n) {
  TORCH_CHECK(n >= 0, "arn: sample count must be >= 0");
  return complete(torch::zeros(batch_shape(n, options.shape()), table.options()), nothing_observed(dims()));
}

torch::Tensor ArnImpl::complete(const torch::Tensor& x, const torch::Tensor& observed) {
  torch::NoGradGuard no_grad;
  const int64_t d = dims(), order = options.order();
  auto out = flatten_pixels(x, d, "arn").to(table.dtype()).clone();  // [N, D]
  auto keep = flatten_observed(observed, out.size(0), d, "arn");       // [N, D]
  auto index = torch::zeros({out.size(0)}, torch::kLong);            // the context of pixel i, updated as i moves
  for (int64_t i = 0; i < d; ++i) {
    auto logit = table[i].index_select(0, index);  // [N]
    auto draw = torch::bernoulli(torch::sigmoid(logit));
    auto pixel = torch::where(keep.select(1, i), out.select(1, i), draw);
    out.select(1, i).copy_(pixel);
    // Shift the new pixel in as the most recent: k' = (2k + x_i) mod 2^n
    // (bit j - 1 holds x_{i+1-j}).
    if (order > 0) index = (index * 2 + pixel.to(torch::kLong)) % (int64_t{1} << order);
  }
  return out.reshape(x.sizes());
}

bool ArnImpl::completion_is_exact(const torch::Tensor& observed) const {
  return raster_completion_is_exact(observed, dims(), "arn");
}

torch::Tensor ArnImpl::conditionals(const torch::Tensor& x, int64_t ordering) {
  check_one_ordering(ordering, "arn");
  const int64_t n = options.order(), d = dims();
  auto flat = flatten_pixels(x, d, "arn").to(table.dtype());                             // [N, D]
  auto padded = torch::nn::functional::pad(flat, torch::nn::functional::PadFuncOptions({n, 0}));  // [N, n + D]
  // Weights of every context, built from the oldest bit (j = n, the most
  // significant) to the newest (j = 1): index 2m + b extends m by bit b.
  auto weights = torch::ones({flat.size(0), d, 1}, flat.options());
  for (int64_t j = n; j >= 1; --j) {
    auto xj = padded.slice(1, n - j, n - j + d).unsqueeze(2);  // x_{i-j}, [N, D, 1]
    weights = torch::stack({weights * (1 - xj), weights * xj}, 3).reshape({flat.size(0), d, -1});
  }
  return (weights * table.unsqueeze(0)).sum(2);  // [N, D]
}

torch::Tensor ArnImpl::generation_rank(int64_t ordering) const { return raster_rank(dims(), ordering, "arn"); }

ModelInfo arn_model_info() {
  ModelInfo info = binary_density_info(
      "arn", "Markov AR(n): each pixel given the n before it, one logit per context (exact log p)",
      {Capability::Sample, Capability::Density, Capability::Complete, Capability::Autoregressive});
  info.create = [](ModelContext& ctx) -> ModulePtr {
    Config& c = *ctx.config;
    const int64_t order = c.get_int("model.order", ArnOptions().order());
    const int64_t dims = ctx.data.dims();
    if (order < 0 || order > 20 || static_cast<double>(dims) * std::pow(2.0, static_cast<double>(order)) > 64e6)
      throw Error("config key 'model.order' must be in 0..20 with " + std::to_string(dims) +
                  " pixels x 2^order logits at most 64 million (order <= 16 for 28 x 28), got " +
                  std::to_string(order));
    const auto init = c.get_enum("model.init", ArnInit::Counts, arn_init_names());
    const double smoothing = c.get_double("model.smoothing", 0.5);
    if (!(smoothing > 0) || !std::isfinite(smoothing)) throw Error("config key 'model.smoothing' must be > 0");
    Arn model(ArnOptions().shape({ctx.data.channels, ctx.data.height, ctx.data.width}).order(order));
    if (init == ArnInit::Counts && ctx.train_data.defined()) model->init_from_counts(ctx.train_data, smoothing);
    return model.ptr();
  };
  return info;
}

}  // namespace genzoo
