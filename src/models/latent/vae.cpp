#include "genzoo/models/latent/vae.h"

#include <cmath>

#include "genzoo/models/shapes.h"
#include "genzoo/sampling/importance.h"

namespace genzoo {

namespace {

constexpr double kLog2Pi = 1.8378770664093453;  // log(2 pi)

// log N(z; 0, I) summed over the last dimension: z [..., Z] -> [...].
torch::Tensor standard_normal_log_density(const torch::Tensor& z) { return -0.5 * (z.pow(2) + kLog2Pi).sum(-1); }

// log q(z|x) at z = mu + sigma eps: -1/2 sum_j (eps_j^2 + log sigma_j^2 + log 2 pi).
torch::Tensor posterior_log_density(const torch::Tensor& eps, const torch::Tensor& logvar) {
  return -0.5 * (eps.pow(2) + logvar + kLog2Pi).sum(-1);
}

}  // namespace

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

torch::Tensor VaeImpl::log_joint(const torch::Tensor& x, const torch::Tensor& z) {
  auto flat = flatten_pixels(x, dims(), "vae").to(z.dtype());  // [N, D]
  return net->distribution(decoder_logits(z)).log_prob(flat) + standard_normal_log_density(z);  // [k, N]
}

BoundTerms VaeImpl::bound_terms(const torch::Tensor& x, int64_t k) {
  TORCH_CHECK(k >= 1, "vae: the bound needs k >= 1 samples, got ", k);
  auto [mu, logvar] = posterior(x);  // [N, Z]
  auto sigma = (0.5 * logvar).exp();
  BoundTerms t;
  // Kingma & Welling 2014, appendix B: -KL = 1/2 sum_j (1 + log s_j^2 - m_j^2 - s_j^2).
  t.kl = 0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar).sum(1);  // [N]
  auto flat = flatten_pixels(x, dims(), "vae").to(mu.dtype());  // [N, D]
  if (k == 1) {
    auto z = mu + sigma * torch::randn_like(mu);  // reparameterised: [N, Z]
    t.reconstruction = net->distribution(decoder_logits(z)).log_prob(flat);
    t.bound = t.reconstruction - t.kl;
    return t;
  }
  auto eps = torch::randn({k, mu.size(0), mu.size(1)}, mu.options());  // [k, N, Z]
  auto z = mu + sigma * eps;                                          // [k, N, Z]
  auto log_lik = net->distribution(decoder_logits(z)).log_prob(flat);  // [k, N]
  auto log_w = log_lik + standard_normal_log_density(z) - posterior_log_density(eps, logvar);  // [k, N]
  t.bound = torch::logsumexp(log_w, 0) - std::log(static_cast<double>(k));  // Burda et al. 2016, eq. 8
  t.reconstruction = log_lik.mean(0);
  return t;
}

torch::Tensor VaeImpl::log_prob(const torch::Tensor& x) {
  torch::NoGradGuard no_grad;
  ImportanceModel m;
  m.propose = [this](const torch::Tensor& xs, int64_t k) {
    auto [mu, logvar] = posterior(xs);
    auto eps = torch::randn({k, mu.size(0), mu.size(1)}, mu.options());  // [k, N, Z]
    return std::make_pair(mu + (0.5 * logvar).exp() * eps, posterior_log_density(eps, logvar));
  };
  m.log_joint = [this](const torch::Tensor& xs, const torch::Tensor& z) { return log_joint(xs, z); };
  // Chunks of importance samples sized so that a chunk's logits hold about
  // 2e7 values, whatever the batch (the conv decoder's inner activations are
  // about 8 times its output).
  const int64_t rows = std::max<int64_t>(1, x.size(0));
  const int64_t per_sample = rows * dims() * (options.net().arch() == LatentArch::Conv ? 8 : 1);
  const int64_t chunk = std::max<int64_t>(1, 20000000 / per_sample);
  return importance_log_likelihood(m, x, options.eval_samples(), chunk).to(net->dtype());  // [N]
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
