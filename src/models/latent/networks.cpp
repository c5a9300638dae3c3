#include "genzoo/models/latent/networks.h"

#include <cmath>

#include "genzoo/models/bernoulli.h"
#include "genzoo/models/shapes.h"

namespace genzoo {

namespace {

torch::nn::Sequential mlp(int64_t in, int64_t hidden, int64_t layers, int64_t out, LatentActivation act) {
  torch::nn::Sequential net;
  for (int64_t l = 0; l < layers; ++l) {
    net->push_back(torch::nn::Linear(l == 0 ? in : hidden, hidden));
    if (act == LatentActivation::Tanh)
      net->push_back(torch::nn::Tanh());
    else
      net->push_back(torch::nn::ReLU());
  }
  net->push_back(torch::nn::Linear(hidden, out));
  return net;
}

// [N, C, H, W] -> [N, out], with c and 2c channels after each stride-2 convolution.
torch::nn::Sequential conv_encoder(const std::vector<int64_t>& shape, int64_t c, int64_t conditions, int64_t out) {
  namespace nn = torch::nn;
  const int64_t h = shape[1] / 4, w = shape[2] / 4;
  return nn::Sequential(nn::Conv2d(nn::Conv2dOptions(shape[0], c, 4).stride(2).padding(1)), nn::ReLU(),
                        nn::Conv2d(nn::Conv2dOptions(c, 2 * c, 4).stride(2).padding(1)), nn::ReLU(), nn::Flatten(),
                        nn::Linear(2 * c * h * w + conditions, out));
}

// [N, Z] -> [N, P * C, H, W].
torch::nn::Sequential conv_decoder(const std::vector<int64_t>& shape, int64_t c, int64_t latent, int64_t outputs) {
  namespace nn = torch::nn;
  const int64_t h = shape[1] / 4, w = shape[2] / 4;
  return nn::Sequential(nn::Linear(latent, 2 * c * h * w), nn::ReLU(),
                        nn::Unflatten(nn::UnflattenOptions(1, {2 * c, h, w})),
                        nn::ConvTranspose2d(nn::ConvTranspose2dOptions(2 * c, c, 4).stride(2).padding(1)), nn::ReLU(),
                        nn::ConvTranspose2d(nn::ConvTranspose2dOptions(c, outputs * shape[0], 4).stride(2).padding(1)));
}

}  // namespace

const EnumNames<LatentArch>& latent_arch_names() {
  static const EnumNames<LatentArch> names{{LatentArch::Mlp, "mlp"}, {LatentArch::Conv, "conv"}};
  return names;
}

const EnumNames<LatentActivation>& latent_activation_names() {
  static const EnumNames<LatentActivation> names{{LatentActivation::Tanh, "tanh"}, {LatentActivation::Relu, "relu"}};
  return names;
}

EncoderDecoderImpl::EncoderDecoderImpl(EncoderDecoderOptions options_, int64_t encoder_outputs_)
    : options(std::move(options_)), encoder_outputs(encoder_outputs_) {
  reset();
}

void EncoderDecoderImpl::reset() {
  const auto& o = options;
  TORCH_CHECK(o.shape().size() == 3, "shape must be {C, H, W}");
  TORCH_CHECK(o.hidden() > 0, "hidden must be > 0, got ", o.hidden());
  TORCH_CHECK(o.layers() >= 1 && o.layers() <= 8, "layers must be in [1, 8], got ", o.layers());
  TORCH_CHECK(o.channels() > 0, "channels must be > 0, got ", o.channels());
  TORCH_CHECK(o.latent() > 0, "latent must be > 0, got ", o.latent());
  TORCH_CHECK(encoder_outputs > 0, "the encoder needs outputs");
  TORCH_CHECK(o.conditions() >= 0, "conditions must be >= 0, got ", o.conditions());
  TORCH_CHECK(likelihood_mismatch(o.likelihood(), o.format()).empty(), likelihood_mismatch(o.likelihood(), o.format()));
  TORCH_CHECK(o.sigma() > 0 && std::isfinite(o.sigma()), "sigma must be > 0, got ", o.sigma());
  const int64_t d = dims(), p = likelihood_outputs(o.likelihood());
  if (o.likelihood() == PixelLikelihood::Gaussian && o.learn_sigma())
    log_sigma = register_parameter("log_sigma", torch::full({d}, std::log(o.sigma())));
  else
    log_sigma = register_buffer("log_sigma", torch::full({}, std::log(o.sigma())));
  if (o.arch() == LatentArch::Conv) {
    TORCH_CHECK(o.shape()[1] % 4 == 0 && o.shape()[2] % 4 == 0, "model.arch = conv needs image sides divisible by 4, got ",
                o.shape()[1], "x", o.shape()[2], " (use model.arch = mlp)");
    encoder = register_module("encoder", conv_encoder(o.shape(), o.channels(), o.conditions(), encoder_outputs));
    decoder = register_module("decoder", conv_decoder(o.shape(), o.channels(), o.latent() + o.conditions(), p));
  } else {
    encoder = register_module("encoder", mlp(d + o.conditions(), o.hidden(), o.layers(), encoder_outputs, o.activation()));
    decoder = register_module("decoder", mlp(o.latent() + o.conditions(), o.hidden(), o.layers(), p * d, o.activation()));
  }
}

int64_t EncoderDecoderImpl::dims() const { return shape_numel(options.shape()); }

torch::ScalarType EncoderDecoderImpl::dtype() const { return decoder->parameters().front().scalar_type(); }

namespace {

// `input` with the conditioning vector appended along the last dimension,
// after checking that it is there exactly when the network takes one.
torch::Tensor with_condition(const torch::Tensor& input, const torch::Tensor& cond, int64_t conditions,
                             const char* where) {
  TORCH_CHECK(cond.defined() == (conditions > 0), where,
              conditions > 0 ? " needs its conditioning vector (the class label)" : " takes no conditioning vector");
  if (conditions == 0) return input;
  TORCH_CHECK(cond.size(-1) == conditions && cond.dim() == input.dim(), where, ": the conditioning vector must be [..., ",
              conditions, "], got ", cond.sizes());
  return torch::cat({input, cond.to(input.dtype())}, -1);
}

}  // namespace

torch::Tensor EncoderDecoderImpl::encoder_output(const torch::Tensor& x, const torch::Tensor& cond) {
  auto flat = flatten_pixels(x, dims(), "encoder").to(dtype());  // [N, D]
  // Whole levels enter the encoder on the scale of the other formats: the
  // ReLU stack is scale-equivariant, so 0..255 would inflate its outputs 100x.
  if (options.format() == PixelFormat::Levels256) flat = flat / 127.5 - 1;
  const int64_t c = options.conditions();
  if (options.arch() == LatentArch::Mlp) return encoder->forward(with_condition(flat, cond, c, "the encoder"));
  auto image = flat.reshape(batch_shape(flat.size(0), options.shape()));
  if (c == 0) return encoder->forward(image);
  // The condition joins the convolutional features before the last linear layer.
  torch::Tensor h = image;
  auto layer = encoder->begin();
  for (size_t i = 0; i + 1 < encoder->size(); ++i, ++layer) h = layer->forward(h);  // [N, 2c h w]
  return layer->forward(with_condition(h, cond, c, "the encoder"));
}

torch::Tensor EncoderDecoderImpl::decoder_output(const torch::Tensor& z, const torch::Tensor& cond) {
  auto input = with_condition(z, cond, options.conditions(), "the decoder");
  if (options.arch() == LatentArch::Mlp) return decoder->forward(input);
  // The convolutions take [M, Z]: fold the leading dimensions and restore them.
  auto lead = input.sizes().vec();
  lead.pop_back();
  auto out = decoder->forward(input.reshape({-1, input.size(-1)}));  // [M, P * C, H, W]
  lead.push_back(likelihood_outputs(options.likelihood()) * dims());
  return out.reshape(lead);  // [..., P * D], parameter-major as the channels are
}

PixelDistribution EncoderDecoderImpl::distribution(const torch::Tensor& out) const {
  PixelDistribution d;
  d.kind = options.likelihood();
  d.format = options.format();
  d.out = out;
  d.log_sigma = log_sigma;
  return d;
}

EncoderDecoderOptions read_encoder_decoder_options(Config& cfg, const DataSpec& spec) {
  EncoderDecoderOptions o;
  o.shape({spec.channels, spec.height, spec.width})
      .format(spec.format)
      .arch(cfg.get_enum("model.arch", o.arch(), latent_arch_names()))
      .latent(cfg.get_int("model.latent", o.latent()))
      .likelihood(cfg.get_enum("model.likelihood", default_likelihood(spec.format), pixel_likelihood_names()));
  if (o.arch() == LatentArch::Mlp)
    o.hidden(cfg.get_int("model.hidden", o.hidden()))
        .layers(cfg.get_int("model.layers", o.layers()))
        .activation(cfg.get_enum("model.activation", o.activation(), latent_activation_names()));
  else
    o.channels(cfg.get_int("model.channels", o.channels()));
  if (o.likelihood() == PixelLikelihood::Gaussian)
    o.sigma(cfg.get_double("model.sigma", o.sigma())).learn_sigma(cfg.get_bool("model.learn_sigma", o.learn_sigma()));
  return o;
}

void init_decoder_from_marginals(EncoderDecoder& net, const torch::Tensor& train_data) {
  if (!train_data.defined() || net->options.likelihood() != PixelLikelihood::Bernoulli) return;
  torch::NoGradGuard no_grad;
  auto marginals = marginal_logits(train_data, net->dims());  // [D]
  auto last = net->decoder->ptr(net->decoder->size() - 1);
  if (auto* linear = last->as<torch::nn::Linear>())
    linear->bias.copy_(marginals);
  else
    last->as<torch::nn::ConvTranspose2d>()->bias.copy_(marginals.reshape({net->options.shape()[0], -1}).mean(1));
}

}  // namespace genzoo
