#include "genzoo/models/latent/vae.h"

#include <cmath>

#include "genzoo/models/bernoulli.h"
#include "genzoo/models/latent/likelihood.h"
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

torch::nn::Sequential mlp(int64_t in, int64_t hidden, int64_t layers, int64_t out, VaeActivation act) {
  torch::nn::Sequential net;
  for (int64_t l = 0; l < layers; ++l) {
    net->push_back(torch::nn::Linear(l == 0 ? in : hidden, hidden));
    if (act == VaeActivation::Tanh)
      net->push_back(torch::nn::Tanh());
    else
      net->push_back(torch::nn::ReLU());
  }
  net->push_back(torch::nn::Linear(hidden, out));
  return net;
}

// The DCGAN-like pair: [N, C, H, W] -> [N, out] and [N, Z] -> [N, C, H, W]
// logits, with c and 2c channels after each stride-2 convolution.
torch::nn::Sequential conv_encoder(const std::vector<int64_t>& shape, int64_t c, int64_t out) {
  namespace nn = torch::nn;
  const int64_t h = shape[1] / 4, w = shape[2] / 4;
  return nn::Sequential(nn::Conv2d(nn::Conv2dOptions(shape[0], c, 4).stride(2).padding(1)), nn::ReLU(),
                        nn::Conv2d(nn::Conv2dOptions(c, 2 * c, 4).stride(2).padding(1)), nn::ReLU(), nn::Flatten(),
                        nn::Linear(2 * c * h * w, out));
}

torch::nn::Sequential conv_decoder(const std::vector<int64_t>& shape, int64_t c, int64_t latent, int64_t outputs) {
  namespace nn = torch::nn;
  const int64_t h = shape[1] / 4, w = shape[2] / 4;
  return nn::Sequential(nn::Linear(latent, 2 * c * h * w), nn::ReLU(),
                        nn::Unflatten(nn::UnflattenOptions(1, {2 * c, h, w})),
                        nn::ConvTranspose2d(nn::ConvTranspose2dOptions(2 * c, c, 4).stride(2).padding(1)), nn::ReLU(),
                        nn::ConvTranspose2d(nn::ConvTranspose2dOptions(c, outputs * shape[0], 4).stride(2).padding(1)));
}

}  // namespace

const EnumNames<VaeArch>& vae_arch_names() {
  static const EnumNames<VaeArch> names{{VaeArch::Mlp, "mlp"}, {VaeArch::Conv, "conv"}};
  return names;
}

const EnumNames<VaeActivation>& vae_activation_names() {
  static const EnumNames<VaeActivation> names{{VaeActivation::Tanh, "tanh"}, {VaeActivation::Relu, "relu"}};
  return names;
}

VaeImpl::VaeImpl(VaeOptions options_) : options(std::move(options_)) { reset(); }

void VaeImpl::reset() {
  TORCH_CHECK(options.shape().size() == 3, "vae: shape must be {C, H, W}");
  TORCH_CHECK(options.hidden() > 0, "vae: hidden must be > 0, got ", options.hidden());
  TORCH_CHECK(options.layers() >= 1 && options.layers() <= 8, "vae: layers must be in [1, 8], got ", options.layers());
  TORCH_CHECK(options.latent() > 0, "vae: latent must be > 0, got ", options.latent());
  TORCH_CHECK(options.k() >= 1 && options.k() <= 5000, "vae: k must be in [1, 5000], got ", options.k());
  TORCH_CHECK(options.eval_samples() >= 1, "vae: eval_samples must be >= 1, got ", options.eval_samples());
  const int64_t d = shape_numel(options.shape()), h = options.hidden(), z = options.latent();
  TORCH_CHECK(likelihood_mismatch(options.likelihood(), options.format()).empty(),
              likelihood_mismatch(options.likelihood(), options.format()));
  TORCH_CHECK(options.sigma() > 0 && std::isfinite(options.sigma()), "vae: sigma must be > 0, got ", options.sigma());
  const int64_t p = likelihood_outputs(options.likelihood());
  if (options.likelihood() == PixelLikelihood::Gaussian && options.learn_sigma())
    log_sigma = register_parameter("log_sigma", torch::full({d}, std::log(options.sigma())));
  else
    log_sigma = register_buffer("log_sigma", torch::full({}, std::log(options.sigma())));
  if (options.arch() == VaeArch::Conv) {
    TORCH_CHECK(options.shape()[1] % 4 == 0 && options.shape()[2] % 4 == 0,
                "vae: model.arch = conv needs image sides divisible by 4, got ", options.shape()[1], "x",
                options.shape()[2], " (use model.arch = mlp)");
    TORCH_CHECK(options.channels() > 0, "vae: channels must be > 0, got ", options.channels());
    encoder = register_module("encoder", conv_encoder(options.shape(), options.channels(), 2 * z));
    decoder = register_module("decoder", conv_decoder(options.shape(), options.channels(), z, p));
    return;
  }
  encoder = register_module("encoder", mlp(d, h, options.layers(), 2 * z, options.activation()));  // -> [mu, log s^2]
  decoder = register_module("decoder", mlp(z, h, options.layers(), p * d, options.activation()));  // -> [P * D]
}

int64_t VaeImpl::dims() const { return shape_numel(options.shape()); }

std::pair<torch::Tensor, torch::Tensor> VaeImpl::posterior(const torch::Tensor& x) {
  const auto dtype = decoder->parameters().front().scalar_type();
  auto flat = flatten_pixels(x, dims(), "vae").to(dtype);  // [N, D]
  auto h = encoder->forward(options.arch() == VaeArch::Conv ? flat.reshape(batch_shape(flat.size(0), options.shape()))
                                                            : flat);  // [N, 2Z]
  auto parts = h.chunk(2, 1);
  return {parts[0], parts[1]};
}

torch::Tensor VaeImpl::decoder_logits(const torch::Tensor& z) {
  if (options.arch() == VaeArch::Mlp) return decoder->forward(z);
  // The convolutions take [M, Z]: fold the leading dimensions and restore them.
  auto lead = z.sizes().vec();
  lead.pop_back();
  auto out = decoder->forward(z.reshape({-1, z.size(-1)}));  // [M, P * C, H, W]
  lead.push_back(likelihood_outputs(options.likelihood()) * dims());
  return out.reshape(lead);  // [..., P * D], parameter-major as the channels are
}

PixelDistribution VaeImpl::distribution(const torch::Tensor& out) const {
  PixelDistribution d;
  d.kind = options.likelihood();
  d.format = options.format();
  d.out = out;
  d.log_sigma = log_sigma;
  return d;
}

torch::Tensor VaeImpl::log_joint(const torch::Tensor& x, const torch::Tensor& z) {
  auto flat = flatten_pixels(x, dims(), "vae").to(z.dtype());  // [N, D]
  return distribution(decoder_logits(z)).log_prob(flat) + standard_normal_log_density(z);  // [k, N]
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
    t.reconstruction = distribution(decoder_logits(z)).log_prob(flat);
    t.bound = t.reconstruction - t.kl;
    return t;
  }
  auto eps = torch::randn({k, mu.size(0), mu.size(1)}, mu.options());  // [k, N, Z]
  auto z = mu + sigma * eps;                                          // [k, N, Z]
  auto log_lik = distribution(decoder_logits(z)).log_prob(flat);      // [k, N]
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
  // 2e7 values, whatever the batch.
  const int64_t rows = std::max<int64_t>(1, x.size(0));
  const int64_t chunk = std::max<int64_t>(1, 20000000 / (rows * dims()));
  return importance_log_likelihood(m, x, options.eval_samples(), chunk)
      .to(decoder->parameters().front().scalar_type());  // [N]
}

torch::Tensor VaeImpl::sample(int64_t n) {
  TORCH_CHECK(n >= 0, "vae: sample count must be >= 0");
  torch::NoGradGuard no_grad;
  auto z = torch::randn({n, options.latent()}, decoder->parameters().front().options());  // [n, Z]
  return distribution(decoder_logits(z)).sample().reshape(batch_shape(n, options.shape()));
}

torch::Tensor VaeImpl::encode(const torch::Tensor& x) { return posterior(x).first; }

torch::Tensor VaeImpl::decode(const torch::Tensor& z) {
  TORCH_CHECK(z.dim() == 2 && z.size(1) == options.latent(), "vae: decode expects z [N, ", options.latent(), "]");
  return distribution(decoder_logits(z)).mean().reshape(batch_shape(z.size(0), options.shape()));
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
    o.shape({ctx.data.channels, ctx.data.height, ctx.data.width})
        .arch(cfg.get_enum("model.arch", o.arch(), vae_arch_names()))
        .latent(cfg.get_int("model.latent", o.latent()))
        .k(cfg.get_int("model.k", o.k()))
        .eval_samples(cfg.get_int("model.eval_samples", o.eval_samples()));
    // Each architecture reads only its own keys, so a run's config.toml
    // lists what it used.
    if (o.arch() == VaeArch::Mlp)
      o.hidden(cfg.get_int("model.hidden", o.hidden()))
          .layers(cfg.get_int("model.layers", o.layers()))
          .activation(cfg.get_enum("model.activation", o.activation(), vae_activation_names()));
    else
      o.channels(cfg.get_int("model.channels", o.channels()));
    o.format(ctx.data.format)
        .likelihood(cfg.get_enum("model.likelihood", default_likelihood(ctx.data.format), pixel_likelihood_names()));
    if (o.likelihood() == PixelLikelihood::Gaussian)
      o.sigma(cfg.get_double("model.sigma", o.sigma())).learn_sigma(cfg.get_bool("model.learn_sigma", o.learn_sigma()));
    Vae model(o);
    if (ctx.train_data.defined() && o.likelihood() == PixelLikelihood::Bernoulli) {
      // As for the autoregressive models, the decoder starts at the marginals.
      torch::NoGradGuard no_grad;
      // (A convolutional decoder's output bias is per channel: its mean logit.)
      auto marginals = marginal_logits(ctx.train_data, model->dims());  // [D]
      auto last = model->decoder->ptr(model->decoder->size() - 1);
      if (auto* linear = last->as<torch::nn::Linear>())
        linear->bias.copy_(marginals);
      else
        last->as<torch::nn::ConvTranspose2d>()->bias.copy_(
            marginals.reshape({ctx.data.channels, -1}).mean(1));
    }
    return model.ptr();
  };
  return info;
}

}  // namespace genzoo
