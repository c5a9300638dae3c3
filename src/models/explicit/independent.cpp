#include "genzoo/models/explicit/independent.h"

#include "genzoo/core/error.h"
#include "genzoo/models/explicit/autoregressive.h"

namespace genzoo {

const EnumNames<IndependentInit>& independent_init_names() {
  static const EnumNames<IndependentInit> names{{IndependentInit::Zero, "zero"}, {IndependentInit::Marginals, "marginals"}};
  return names;
}

IndependentImpl::IndependentImpl(IndependentOptions options_) : options(std::move(options_)) {
  reset();
}

void IndependentImpl::reset() {
  TORCH_CHECK(options.shape().size() == 3, "independent: shape must be {C, H, W}");
  logits = register_parameter("logits", torch::zeros({shape_numel(options.shape())}));  // [D]
}

void IndependentImpl::init_from_marginals(const torch::Tensor& data) {
  TORCH_CHECK(data.dim() == 4 && data.size(0) > 0, "independent: marginals need [N, C, H, W] data");
  torch::NoGradGuard no_grad;
  auto x = data.reshape({data.size(0), -1}).to(torch::kFloat64);  // [N, D]
  TORCH_CHECK(x.size(1) == logits.size(0), "independent: data has ", x.size(1),
              " pixels, the model ", logits.size(0));
  auto p = (x.sum(0) + 1.0) / (x.size(0) + 2.0);  // [D]
  logits.copy_(torch::logit(p).to(torch::kFloat32));
}

torch::Tensor IndependentImpl::log_prob(const torch::Tensor& x) {
  TORCH_CHECK(x.dim() >= 2, "independent: log_prob expects [N, C, H, W]");
  auto flat = x.reshape({x.size(0), -1});  // [N, D]
  TORCH_CHECK(flat.size(1) == logits.size(0), "independent: input has ", flat.size(1),
              " pixels, the model ", logits.size(0));
  // x log s(l) + (1-x) log s(-l), from logits so no probability is ever clipped.
  auto ll = -torch::binary_cross_entropy_with_logits(logits.expand_as(flat), flat, {},
                                                      {}, at::Reduction::None);  // [N, D]
  return ll.sum(1);  // [N]
}

torch::Tensor IndependentImpl::sample(int64_t n) {
  TORCH_CHECK(n >= 0, "independent: sample count must be >= 0");
  torch::NoGradGuard no_grad;
  auto probs = torch::sigmoid(logits).expand({n, logits.size(0)});  // [n, D]
  return torch::bernoulli(probs).reshape(batch_shape(n, options.shape()));  // [n, C, H, W]
}

torch::Tensor IndependentImpl::complete(const torch::Tensor& x, const torch::Tensor& observed) {
  torch::NoGradGuard no_grad;
  auto flat = flatten_pixels(x, logits.size(0), "independent").to(logits.dtype());  // [N, D]
  auto keep = flatten_observed(observed, flat.size(0), logits.size(0), "independent");
  auto draw = torch::bernoulli(torch::sigmoid(logits).expand_as(flat));
  return torch::where(keep, flat, draw).reshape(x.sizes());
}

ModelInfo independent_model_info() {
  ModelInfo info = binary_density_info("independent", "fully factorised Bernoulli over binary pixels (exact log p)",
                                       {Capability::Sample, Capability::Density, Capability::Complete});
  info.create = [](ModelContext& ctx) -> ModulePtr {
    const IndependentOptions defaults;
    auto init = ctx.config->get_enum("model.init", defaults.init(), independent_init_names());
    Independent model(IndependentOptions()
                          .shape({ctx.data.channels, ctx.data.height, ctx.data.width})
                          .init(init));
    if (init == IndependentInit::Marginals && ctx.train_data.defined()) model->init_from_marginals(ctx.train_data);
    return model.ptr();
  };
  return info;
}

}  // namespace genzoo
