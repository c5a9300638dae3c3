#include "genzoo/models/latent/vae.h"

#include <cmath>

#include "genzoo/models/shapes.h"

namespace genzoo {

VaeImpl::VaeImpl(VaeOptions options_) : options(std::move(options_)) { reset(); }

void VaeImpl::reset() {
  TORCH_CHECK(options.k() >= 1 && options.k() <= 5000, "vae: k must be in [1, 5000], got ", options.k());
  TORCH_CHECK(options.eval_samples() >= 1, "vae: eval_samples must be >= 1, got ", options.eval_samples());
  net = register_module("net", EncoderDecoder(options.net(), 2 * options.net().latent()));  // -> [mu, log s^2]
}

int64_t VaeImpl::dims() const { return net->dims(); }

std::pair<torch::Tensor, torch::Tensor> VaeImpl::posterior(const torch::Tensor& x) {
  auto parts = net->encoder_output(x).chunk(2, 1);  // [N, Z] each
  return {parts[0], parts[1]};
}

BoundTerms VaeImpl::labelled_bound_terms(const torch::Tensor& x, const torch::Tensor&, int64_t k) {
  auto [mu, logvar] = posterior(x);  // [N, Z]
  auto flat = flatten_pixels(x, dims(), "vae").to(mu.dtype());  // [N, D]
  return gaussian_latent_bound(mu, logvar, k,
                               [&](const torch::Tensor& z) { return net->distribution(decoder_logits(z)).log_prob(flat); });
}

torch::Tensor VaeImpl::log_prob(const torch::Tensor& x) {
  const int64_t chunk = importance_chunk(x.size(0), dims(), options.net().arch() == LatentArch::Conv);
  return gaussian_latent_log_prob(
             x, options.eval_samples(), chunk, [this](const torch::Tensor& xs) { return posterior(xs); },
             [this](const torch::Tensor& xs, const torch::Tensor& z) {
               auto flat = flatten_pixels(xs, dims(), "vae").to(z.dtype());
               return net->distribution(decoder_logits(z)).log_prob(flat);
             })
      .to(net->dtype());  // [N]
}

torch::Tensor VaeImpl::sample(int64_t n) {
  TORCH_CHECK(n >= 0, "vae: sample count must be >= 0");
  torch::NoGradGuard no_grad;
  auto z = torch::randn({n, options.net().latent()}, torch::TensorOptions().dtype(net->dtype()));  // [n, Z]
  return net->distribution(decoder_logits(z)).sample().reshape(batch_shape(n, options.net().shape()));
}

torch::Tensor VaeImpl::encode(const torch::Tensor& x) { return posterior(x).first; }

torch::Tensor VaeImpl::decode(const torch::Tensor& z) {
  TORCH_CHECK(z.dim() == 2 && z.size(1) == options.net().latent(), "vae: decode expects z [N, ",
              options.net().latent(), "]");
  return net->distribution(decoder_logits(z.to(net->dtype()))).mean().reshape(batch_shape(z.size(0), options.net().shape()));
}

ModelInfo vae_model_info() {
  ModelInfo info;
  info.name = "vae";
  info.family = "latent";
  info.description = "variational autoencoder (mlp|conv; Bernoulli, Gaussian or discretised logistic decoder); model.k > 1: IWAE";
  info.capabilities = {Capability::Sample, Capability::Density, Capability::Latent};
  info.accepts.formats = {PixelFormat::Binary, PixelFormat::Levels256, PixelFormat::Unit, PixelFormat::Symmetric};
  info.create = [](ModelContext& ctx) -> ModulePtr {
    Config& cfg = *ctx.config;
    VaeOptions o;
    o.net(read_encoder_decoder_options(cfg, ctx.data))
        .k(cfg.get_int("model.k", o.k()))
        .eval_samples(cfg.get_int("model.eval_samples", o.eval_samples()));
    Vae model(o);
    init_decoder_from_marginals(model->net, ctx.train_data);
    return model.ptr();
  };
  return info;
}

}  // namespace genzoo
