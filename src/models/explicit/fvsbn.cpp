#include "genzoo/models/explicit/fvsbn.h"

#include "genzoo/models/explicit/autoregressive.h"

namespace genzoo {

FvsbnImpl::FvsbnImpl(FvsbnOptions options_) : options(std::move(options_)) { reset(); }

void FvsbnImpl::reset() {
  TORCH_CHECK(options.shape().size() == 3, "fvsbn: shape must be {C, H, W}");
  const int64_t d = shape_numel(options.shape());
  // Each conditional is a logistic regression, so the log-likelihood is
  // concave in (W, b): zero weights are as good a start as any.
  weight = register_parameter("weight", torch::zeros({d, d}));
  bias = register_parameter("bias", torch::zeros({d}));
}

torch::Tensor FvsbnImpl::conditional_logits(const torch::Tensor& x) {
  auto flat = flatten_pixels(x, dims(), "fvsbn");  // [N, D]
  // tril(-1) keeps j < i only; its gradient is zero above the diagonal, so the
  // unused entries stay at zero for ever.
  return torch::addmm(bias, flat, weight.tril(-1).t());  // [N, D]
}

torch::Tensor FvsbnImpl::log_prob(const torch::Tensor& x) {
  return bernoulli_log_prob(conditional_logits(x), flatten_pixels(x, dims(), "fvsbn"));
}

torch::Tensor FvsbnImpl::sample(int64_t n) {
  TORCH_CHECK(n >= 0, "fvsbn: sample count must be >= 0");
  return complete(torch::zeros(batch_shape(n, options.shape()), bias.options()), nothing_observed(dims()));
}

torch::Tensor FvsbnImpl::complete(const torch::Tensor& x, const torch::Tensor& observed) {
  torch::NoGradGuard no_grad;
  const int64_t d = dims();
  auto out = flatten_pixels(x, d, "fvsbn").to(bias.dtype()).clone();  // [N, D]
  auto keep = flatten_observed(observed, out.size(0), d, "fvsbn");    // [N, D]
  auto w = weight.tril(-1);                                           // [D, D]
  for (int64_t i = 0; i < d; ++i) {
    // Only x_<i enters l_i (row i of the triangle), whatever follows in `out`.
    auto logit = torch::mv(out.slice(1, 0, i), w[i].slice(0, 0, i)) + bias[i];  // [N]
    auto draw = torch::bernoulli(torch::sigmoid(logit));
    out.select(1, i).copy_(torch::where(keep.select(1, i), out.select(1, i), draw));
  }
  return out.reshape(x.sizes());
}

torch::Tensor FvsbnImpl::conditionals(const torch::Tensor& x, int64_t ordering) {
  check_one_ordering(ordering, "fvsbn");
  return conditional_logits(x);
}

torch::Tensor FvsbnImpl::generation_rank(int64_t ordering) const {
  return raster_rank(bias.size(0), ordering, "fvsbn");
}

bool FvsbnImpl::completion_is_exact(const torch::Tensor& observed) const {
  const int64_t d = bias.size(0);
  auto keep = flatten_observed(observed, observed.size(0), d, "fvsbn");
  return observed_first(keep, torch::arange(d));
}

ModelInfo fvsbn_model_info() {
  ModelInfo info = binary_density_info(
      "fvsbn", "fully visible sigmoid belief net: a logistic regression per pixel (exact log p)",
      {Capability::Sample, Capability::Density, Capability::Complete, Capability::Autoregressive});
  info.create = [](ModelContext& ctx) -> ModulePtr {
    const FvsbnOptions defaults;
    Fvsbn model(FvsbnOptions()
                    .shape({ctx.data.channels, ctx.data.height, ctx.data.width})
                    .init_marginals(ctx.config->get_bool("model.init_marginals", defaults.init_marginals())));
    if (model->options.init_marginals() && ctx.train_data.defined()) {
      torch::NoGradGuard no_grad;
      model->bias.copy_(marginal_logits(ctx.train_data, model->dims()));
    }
    return model.ptr();
  };
  return info;
}

}  // namespace genzoo
