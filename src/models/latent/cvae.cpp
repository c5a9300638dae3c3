#include "genzoo/models/latent/cvae.h"

#include <cmath>
#include <vector>

#include "genzoo/models/shapes.h"

namespace genzoo {

CvaeImpl::CvaeImpl(CvaeOptions options_) : options(std::move(options_)) { reset(); }

void CvaeImpl::reset() {
  TORCH_CHECK(options.classes() >= 2 && options.classes() <= 1000, "cvae: classes must be in [2, 1000], got ",
              options.classes());
  TORCH_CHECK(options.k() >= 1 && options.k() <= 5000, "cvae: k must be in [1, 5000], got ", options.k());
  TORCH_CHECK(options.eval_samples() >= 1, "cvae: eval_samples must be >= 1, got ", options.eval_samples());
  auto net_options = options.net();
  net_options.conditions(options.classes());
  net = register_module("net", EncoderDecoder(net_options, 2 * net_options.latent()));  // -> [mu, log s^2]
  log_prior = register_buffer("log_prior", torch::full({options.classes()}, -std::log(double(options.classes()))));
}

void CvaeImpl::set_class_prior(const torch::Tensor& labels) {
  if (!labels.defined() || labels.numel() == 0) return;
  torch::NoGradGuard no_grad;
  log_prior.copy_(smoothed_log_class_frequencies(labels, options.classes(), log_prior.scalar_type(), "cvae"));
}

torch::Tensor CvaeImpl::one_hot(const torch::Tensor& labels) const {
  TORCH_CHECK(labels.defined(), "cvae: a class-conditional model needs the labels of its images");
  TORCH_CHECK(labels.dim() == 1, "cvae: labels must be int64 [N], got ", labels.sizes());
  TORCH_CHECK(labels.numel() == 0 ||
                  (labels.min().item<int64_t>() >= 0 && labels.max().item<int64_t>() < options.classes()),
              "cvae: labels must be in [0, ", options.classes(), ")");
  return torch::one_hot(labels.to(torch::kLong), options.classes()).to(net->dtype());  // [N, classes]
}

std::pair<torch::Tensor, torch::Tensor> CvaeImpl::posterior(const torch::Tensor& x, const torch::Tensor& labels) {
  TORCH_CHECK(labels.defined() && labels.dim() == 1 && labels.size(0) == x.size(0), "cvae: ", x.size(0),
              " images need as many labels");
  auto parts = net->encoder_output(x, one_hot(labels)).chunk(2, 1);  // [N, Z] each
  return {parts[0], parts[1]};
}

torch::Tensor CvaeImpl::log_likelihood(const torch::Tensor& x, const torch::Tensor& z, const torch::Tensor& labels) {
  return log_likelihood_given(x, z, one_hot(labels));
}

torch::Tensor CvaeImpl::log_likelihood_given(const torch::Tensor& x, const torch::Tensor& z, const torch::Tensor& cond_rows) {
  auto flat = flatten_pixels(x, net->dims(), "cvae").to(z.dtype());  // [N, D]
  auto cond = cond_rows.to(z.dtype());                               // [N, classes]
  std::vector<int64_t> shape = z.sizes().vec();
  shape.back() = cond.size(1);
  return net->distribution(net->decoder_output(z, cond.expand(shape))).log_prob(flat);  // [..., N]
}

BoundTerms CvaeImpl::labelled_bound_terms(const torch::Tensor& x, const torch::Tensor& labels, int64_t k) {
  auto [mu, logvar] = posterior(x, labels);
  return gaussian_latent_bound(mu, logvar, k, [&](const torch::Tensor& z) { return log_likelihood(x, z, labels); });
}

torch::Tensor CvaeImpl::conditional_log_prob(const torch::Tensor& x, const torch::Tensor& labels) {
  TORCH_CHECK(labels.defined() && labels.dim() == 1 && labels.size(0) == x.size(0), "cvae: ", x.size(0),
              " images need as many labels");
  const int64_t chunk = importance_chunk(x.size(0), net->dims(), options.net().arch() == LatentArch::Conv);
  auto cond = one_hot(labels);  // checked once, not per chunk
  return gaussian_latent_log_prob(
             x, options.eval_samples(), chunk, [&](const torch::Tensor& xs) { return posterior(xs, labels); },
             [&](const torch::Tensor& xs, const torch::Tensor& z) { return log_likelihood_given(xs, z, cond); })
      .to(net->dtype());  // [N]
}

torch::Tensor CvaeImpl::log_prob(const torch::Tensor& x) {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> terms;  // [N] per class: log pi_y + log p(x|y)
  for (int64_t c = 0; c < options.classes(); ++c) {
    auto labels = torch::full({x.size(0)}, c, torch::kLong);
    terms.push_back(conditional_log_prob(x, labels) + log_prior[c]);
  }
  return torch::logsumexp(torch::stack(terms), 0);  // [N]
}

torch::Tensor CvaeImpl::sample_given(const torch::Tensor& labels) {
  torch::NoGradGuard no_grad;
  auto cond = one_hot(labels);  // [n, classes]
  auto z = torch::randn({cond.size(0), options.net().latent()}, cond.options());  // [n, Z]
  return net->distribution(net->decoder_output(z, cond)).sample().reshape(batch_shape(cond.size(0), options.net().shape()));
}

torch::Tensor CvaeImpl::sample(int64_t n) {
  TORCH_CHECK(n >= 0, "cvae: sample count must be >= 0");
  torch::NoGradGuard no_grad;
  if (n == 0) return sample_given(torch::zeros({0}, torch::kLong));
  auto labels = torch::multinomial(log_prior.exp().to(torch::kFloat64), n, /*replacement=*/true);  // [n]
  return sample_given(labels);
}

ModelInfo cvae_model_info() {
  ModelInfo info;
  info.name = "cvae";
  info.family = "latent";
  info.description = "conditional VAE of p(x|y): the class label fed to encoder and decoder (mlp|conv); samples per class";
  info.capabilities = {Capability::Sample, Capability::Density, Capability::Conditional};
  info.accepts.formats = {PixelFormat::Binary, PixelFormat::Levels256, PixelFormat::Unit, PixelFormat::Symmetric};
  info.accepts.labels = true;
  info.create = [](ModelContext& ctx) -> ModulePtr {
    Config& cfg = *ctx.config;
    CvaeOptions o;
    o.net(read_encoder_decoder_options(cfg, ctx.data))
        .classes(ctx.data.classes)
        .k(cfg.get_int("model.k", o.k()))
        .eval_samples(cfg.get_int("model.eval_samples", o.eval_samples()));
    Cvae model(o);
    init_decoder_from_marginals(model->net, ctx.train_data);
    model->set_class_prior(ctx.train_labels);
    return model.ptr();
  };
  return info;
}

}  // namespace genzoo
