#include "genzoo/models/latent/autoencoder.h"

#include <cmath>

#include "genzoo/models/shapes.h"

namespace genzoo {

const EnumNames<Corruption>& corruption_names() {
  static const EnumNames<Corruption> names{{Corruption::None, "none"},
                                           {Corruption::Gaussian, "gaussian"},
                                           {Corruption::Masking, "masking"},
                                           {Corruption::SaltAndPepper, "salt_and_pepper"}};
  return names;
}

torch::Tensor corrupt(const torch::Tensor& x, Corruption corruption, double level, PixelFormat format) {
  TORCH_CHECK(level >= 0 && level <= 1, "the corruption level must be in [0, 1], got ", level);
  TORCH_CHECK(format != PixelFormat::Points, "corruptions apply to images");
  torch::NoGradGuard no_grad;
  const double lo = format == PixelFormat::Symmetric ? -1 : 0, hi = format == PixelFormat::Levels256 ? 255 : 1;
  torch::Tensor out;
  switch (corruption) {
    case Corruption::None: return x;
    case Corruption::Gaussian: out = (x + level * (hi - lo) * torch::randn_like(x)).clamp(lo, hi); break;
    case Corruption::Masking: out = torch::where(torch::rand_like(x) < level, torch::full_like(x, lo), x); break;
    case Corruption::SaltAndPepper: {
      auto hit = torch::rand_like(x) < level;
      auto value = torch::where(torch::rand_like(x) < 0.5, torch::full_like(x, lo), torch::full_like(x, hi));
      out = torch::where(hit, value, x);
      break;
    }
  }
  return format == PixelFormat::Levels256 ? out.round() : out;
}

AutoencoderImpl::AutoencoderImpl(AutoencoderOptions options_) : options(std::move(options_)) { reset(); }

void AutoencoderImpl::reset() {
  TORCH_CHECK(options.level() >= 0 && options.level() <= 1, "noise_level must be in [0, 1], got ", options.level());
  net = register_module("net", EncoderDecoder(options.net(), options.net().latent()));  // -> the code
}

torch::Tensor AutoencoderImpl::encode(const torch::Tensor& x) { return net->encoder_output(x); }

torch::Tensor AutoencoderImpl::decode(const torch::Tensor& z) {
  TORCH_CHECK(z.dim() == 2 && z.size(1) == options.net().latent(), "autoencoder: decode expects z [N, ",
              options.net().latent(), "]");
  return net->distribution(net->decoder_output(z.to(net->dtype()))).mean().reshape(batch_shape(z.size(0), options.net().shape()));
}

torch::Tensor AutoencoderImpl::reconstruct(const torch::Tensor& x) { return decode(encode(x)); }

torch::Tensor AutoencoderImpl::reconstruction_log_prob(const torch::Tensor& input, const torch::Tensor& target) {
  auto flat = flatten_pixels(target, net->dims(), "autoencoder").to(net->dtype());  // [N, D]
  return net->distribution(net->decoder_output(encode(input))).log_prob(flat);      // [N]
}

torch::Tensor AutoencoderImpl::corrupt_input(const torch::Tensor& x) {
  return corrupt(x, options.corruption(), options.level(), options.net().format());
}

namespace {

ModelInfo autoencoder_info(const std::string& name, const std::string& description, bool denoising) {
  ModelInfo info;
  info.name = name;
  info.family = "latent";
  info.description = description;
  info.capabilities = {Capability::Latent};
  info.accepts.formats = {PixelFormat::Binary, PixelFormat::Levels256, PixelFormat::Unit, PixelFormat::Symmetric};
  info.create = [denoising](ModelContext& ctx) -> ModulePtr {
    Config& cfg = *ctx.config;
    AutoencoderOptions o;
    o.net(read_encoder_decoder_options(cfg, ctx.data));
    if (denoising) {
      o.corruption(cfg.get_enum("model.noise", Corruption::Masking, corruption_names()))
          .level(cfg.get_double("model.noise_level", o.level()));
      TORCH_CHECK(o.corruption() != Corruption::None, "dae: model.noise = none is the plain autoencoder: use ae");
    }
    Autoencoder model(o);
    init_decoder_from_marginals(model->net, ctx.train_data);
    return model.ptr();
  };
  return info;
}

}  // namespace

ModelInfo autoencoder_model_info() {
  return autoencoder_info("ae", "autoencoder (mlp|conv): a code, a decoder likelihood; not generative alone", false);
}

ModelInfo denoising_autoencoder_model_info() {
  return autoencoder_info("dae", "denoising autoencoder: reconstructs x from a corrupted copy (model.noise)", true);
}

}  // namespace genzoo
