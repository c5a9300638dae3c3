#include "genzoo/models/spectral_norm.h"

namespace genzoo {

namespace {

torch::Tensor unit(const torch::Tensor& x) { return x / x.norm().clamp_min(1e-12); }

torch::Tensor as_matrix(const torch::Tensor& weight) { return weight.reshape({weight.size(0), -1}); }

}  // namespace

void SpectralEstimate::init(torch::nn::Module& owner, const torch::Tensor& weight, int64_t warmup) {
  torch::NoGradGuard no_grad;
  auto w = as_matrix(weight);
  u = owner.register_buffer("u", unit(torch::randn({w.size(0)}, w.options())));
  v = owner.register_buffer("v", unit(torch::randn({w.size(1)}, w.options())));
  iterate(weight, warmup);
}

void SpectralEstimate::iterate(const torch::Tensor& weight, int64_t n) {
  torch::NoGradGuard no_grad;
  auto w = as_matrix(weight);  // [out, rest]
  for (int64_t i = 0; i < n; ++i) {
    v.copy_(unit(torch::mv(w.t(), u)));
    u.copy_(unit(torch::mv(w, v)));
  }
}

torch::Tensor SpectralEstimate::sigma(const torch::Tensor& weight) const {
  return torch::dot(u, torch::mv(as_matrix(weight), v));
}

SpectralLinearImpl::SpectralLinearImpl(torch::nn::LinearOptions options) : options(std::move(options)) { reset(); }

void SpectralLinearImpl::reset() {
  linear = register_module("linear", torch::nn::Linear(options));
  estimate.init(*this, linear->weight, kSpectralWarmup);
}

torch::Tensor SpectralLinearImpl::forward(const torch::Tensor& x) {
  return torch::linear(x, linear->weight / estimate.sigma(linear->weight), linear->bias);
}

SpectralConv2dImpl::SpectralConv2dImpl(torch::nn::Conv2dOptions options) : options(std::move(options)) { reset(); }

void SpectralConv2dImpl::reset() {
  TORCH_CHECK(c10::holds_alternative<torch::ExpandingArray<2>>(options.padding()),
              "SpectralConv2d takes explicit padding sizes");
  TORCH_CHECK(c10::holds_alternative<torch::enumtype::kZeros>(options.padding_mode()),
              "SpectralConv2d pads with zeros only");
  conv = register_module("conv", torch::nn::Conv2d(options));
  estimate.init(*this, conv->weight, kSpectralWarmup);
}

torch::Tensor SpectralConv2dImpl::forward(const torch::Tensor& x) {
  const auto& padding = c10::get<torch::ExpandingArray<2>>(options.padding());
  return torch::conv2d(x, conv->weight / estimate.sigma(conv->weight), conv->bias, options.stride(), padding,
                       options.dilation(), options.groups());
}

int64_t spectral_power_iteration(torch::nn::Module& module, int64_t n) {
  int64_t layers = 0;
  auto visit = [&](torch::nn::Module& m) {
    if (auto* l = dynamic_cast<SpectralLinearImpl*>(&m)) {
      l->power_iteration(n);
      ++layers;
    } else if (auto* c = dynamic_cast<SpectralConv2dImpl*>(&m)) {
      c->power_iteration(n);
      ++layers;
    }
  };
  // modules(false): the owner may still be under construction (not yet in a
  // shared_ptr), so it is visited by reference.
  visit(module);
  for (auto& m : module.modules(/*include_self=*/false)) visit(*m);
  return layers;
}

}  // namespace genzoo
