#include "genzoo/models/explicit/rnade.h"

#include <cmath>

#include "genzoo/core/error.h"
#include "genzoo/models/explicit/autoregressive.h"
#include "genzoo/models/shapes.h"

namespace genzoo {

torch::Tensor gaussian_mixture_log_density(const torch::Tensor& log_weights, const torch::Tensor& means,
                                           const torch::Tensor& log_scales, const torch::Tensor& x) {
  auto z = (x.unsqueeze(-1) - means) * torch::exp(-log_scales);                        // [..., K]
  auto log_normal = -0.5 * z.pow(2) - log_scales - 0.5 * std::log(2 * M_PI);
  return torch::logsumexp(log_weights + log_normal, -1);                                // [...]
}

RnadeImpl::RnadeImpl(RnadeOptions options_) : options(std::move(options_)) { reset(); }

void RnadeImpl::reset() {
  TORCH_CHECK(options.shape().size() == 3, "rnade: shape must be {C, H, W}");
  TORCH_CHECK(options.hidden() > 0 && options.components() > 0, "rnade: hidden and components must be > 0");
  const int64_t d = shape_numel(options.shape()), h = options.hidden(), k = options.components();
  const double sw = 1.0 / std::sqrt(static_cast<double>(d)), sv = 1.0 / std::sqrt(static_cast<double>(h));
  w = register_parameter("w", torch::empty({h, d}).uniform_(-sw, sw));
  c = register_parameter("c", torch::zeros({h}));
  rho = register_parameter("rho", torch::ones({d}));
  v_weight = register_parameter("v_weight", torch::empty({d, k, h}).uniform_(-sv, sv));
  v_mean = register_parameter("v_mean", torch::empty({d, k, h}).uniform_(-sv, sv));
  v_scale = register_parameter("v_scale", torch::empty({d, k, h}).uniform_(-sv, sv));
  // Means spread over the data range [0, 1], scales a tenth of it: every
  // component starts where the data are.
  b_weight = register_parameter("b_weight", torch::zeros({d, k}));
  b_mean = register_parameter("b_mean", torch::linspace(0, 1, k).expand({d, k}).clone());
  b_scale = register_parameter("b_scale", torch::full({d, k}, std::log(0.1)));
}

RnadeMixture RnadeImpl::mixtures(const torch::Tensor& x) {
  auto flat = flatten_pixels(x, dims(), "rnade").to(w.dtype());      // [N, D]
  auto contrib = flat.unsqueeze(1) * w.unsqueeze(0);                  // [N, H, D]
  auto a = c.view({1, -1, 1}) + contrib.cumsum(2) - contrib;          // [N, H, D]: a_i before pixel i
  auto hidden = torch::sigmoid(a * rho.view({1, 1, -1}));             // [N, H, D]
  RnadeMixture m;
  m.log_weights = torch::log_softmax(torch::einsum("nhd,dkh->ndk", {hidden, v_weight}) + b_weight, -1);  // [N, D, K]
  m.means = torch::einsum("nhd,dkh->ndk", {hidden, v_mean}) + b_mean;
  m.log_scales = torch::einsum("nhd,dkh->ndk", {hidden, v_scale}) + b_scale;
  return m;
}

torch::Tensor RnadeImpl::log_prob(const torch::Tensor& x) {
  auto m = mixtures(x);
  auto flat = flatten_pixels(x, dims(), "rnade").to(w.dtype());
  return gaussian_mixture_log_density(m.log_weights, m.means, m.log_scales, flat).sum(1);  // [N]
}

torch::Tensor RnadeImpl::sample(int64_t n) {
  TORCH_CHECK(n >= 0, "rnade: sample count must be >= 0");
  return complete(torch::zeros(batch_shape(n, options.shape()), w.options()), nothing_observed(dims()));
}

torch::Tensor RnadeImpl::complete(const torch::Tensor& x, const torch::Tensor& observed) {
  torch::NoGradGuard no_grad;
  const int64_t d = dims(), n = x.size(0);
  auto out = flatten_pixels(x, d, "rnade").to(w.dtype()).clone();  // [N, D]
  auto keep = flatten_observed(observed, n, d, "rnade");
  auto a = c.unsqueeze(0).expand({n, -1}).clone();                  // [N, H]
  for (int64_t i = 0; i < d; ++i) {
    auto hidden = torch::sigmoid(a * rho[i]);                                                   // [N, H]
    auto logits = torch::mm(hidden, v_weight[i].t()) + b_weight[i];                             // [N, K]
    auto mean = torch::mm(hidden, v_mean[i].t()) + b_mean[i];
    auto scale = torch::exp(torch::mm(hidden, v_scale[i].t()) + b_scale[i]);
    auto k = torch::multinomial(torch::softmax(logits, 1), 1);                                  // [N, 1]
    auto draw = (mean.gather(1, k) + scale.gather(1, k) * torch::randn({n, 1}, w.options())).squeeze(1);
    auto pixel = torch::where(keep.select(1, i), out.select(1, i), draw.clamp(0, 1));
    out.select(1, i).copy_(pixel);
    a += pixel.unsqueeze(1) * w.select(1, i).unsqueeze(0);
  }
  return out.reshape(x.sizes());
}

bool RnadeImpl::completion_is_exact(const torch::Tensor& observed) const {
  return raster_completion_is_exact(observed, dims(), "rnade");
}

torch::Tensor RnadeImpl::conditionals(const torch::Tensor& x, int64_t ordering) {
  check_one_ordering(ordering, "rnade");
  auto m = mixtures(x);
  return torch::cat({m.log_weights, m.means, m.log_scales}, 2);  // [N, D, 3K]
}

torch::Tensor RnadeImpl::generation_rank(int64_t ordering) const { return raster_rank(dims(), ordering, "rnade"); }

ModelInfo rnade_model_info() {
  ModelInfo info;
  info.name = "rnade";
  info.family = "explicit";
  info.description = "RNADE: NADE with a mixture of Gaussians per conditional, for real-valued pixels (exact density)";
  info.capabilities = {Capability::Sample, Capability::Density, Capability::Complete, Capability::Autoregressive};
  info.accepts.formats = {PixelFormat::Unit};
  info.create = [](ModelContext& ctx) -> ModulePtr {
    Config& c = *ctx.config;
    const RnadeOptions d;
    RnadeOptions o;
    o.shape({ctx.data.channels, ctx.data.height, ctx.data.width});
    o.hidden(c.get_int("model.hidden", d.hidden())).components(c.get_int("model.components", d.components()));
    if (o.hidden() < 1) throw Error("config key 'model.hidden' must be >= 1");
    if (o.components() < 1) throw Error("config key 'model.components' must be >= 1");
    return Rnade(o).ptr();
  };
  return info;
}

}  // namespace genzoo
