#include "genzoo/models/adversarial/networks.h"

#include <cmath>

#include "genzoo/core/error.h"
#include "genzoo/models/bernoulli.h"
#include "genzoo/models/spectral_norm.h"

namespace genzoo {

namespace {

// A maxout layer (Goodfellow et al. 2013): `units` outputs, each the largest
// of `pieces` affine functions of the input.
struct GanMaxoutImpl : torch::nn::Cloneable<GanMaxoutImpl> {
  GanMaxoutImpl(int64_t in, int64_t units, int64_t pieces, bool spectral)
      : in(in), units(units), pieces(pieces), spectral(spectral) {
    reset();
  }
  void reset() override {
    if (spectral)
      normalised = register_module("linear", SpectralLinear(in, units * pieces));
    else
      plain = register_module("linear", torch::nn::Linear(in, units * pieces));
  }
  torch::Tensor forward(const torch::Tensor& x) {
    auto y = spectral ? normalised(x) : plain(x);
    return std::get<0>(y.view({x.size(0), units, pieces}).max(2));  // [N, units]
  }
  int64_t in, units, pieces;
  bool spectral;
  torch::nn::Linear plain{nullptr};  // one of the two, under the name "linear"
  SpectralLinear normalised{nullptr};
};
TORCH_MODULE(GanMaxout);

// D's affine maps, spectrally normalised on request (model.d_spectral_norm).
torch::nn::AnyModule d_linear(int64_t in, int64_t out, bool spectral) {
  if (spectral) return torch::nn::AnyModule(SpectralLinear(in, out));
  return torch::nn::AnyModule(torch::nn::Linear(in, out));
}

torch::nn::AnyModule d_conv(torch::nn::Conv2dOptions options, bool spectral) {
  if (spectral) return torch::nn::AnyModule(SpectralConv2d(options));
  return torch::nn::AnyModule(torch::nn::Conv2d(options));
}

int64_t flat_dims(const AdversarialNetOptions& o) {
  int64_t d = 1;
  for (auto s : o.shape()) d *= s;
  return d;
}

torch::Tensor with_condition(const torch::Tensor& x, const torch::Tensor& cond, int64_t conditions, const char* who) {
  if (conditions == 0) {
    TORCH_CHECK(!cond.defined(), who, ": an unconditional network takes no labels");
    return x;
  }
  TORCH_CHECK(cond.defined() && cond.dim() == 2 && cond.size(0) == x.size(0) && cond.size(1) == conditions, who,
              ": needs a condition [", x.size(0), ", ", conditions, "]");
  return torch::cat({x, cond.to(x.dtype())}, 1);
}

// Weights U(-range, range) and biases 0 in every affine map and convolution
// of `net` (pylearn2's irange, the 2014 code's initialisation); range 0
// keeps LibTorch's.
void init_uniform(torch::nn::Module& net, double range) {
  if (range <= 0) return;
  torch::NoGradGuard no_grad;
  for (auto& m : net.modules(/*include_self=*/false)) {
    torch::Tensor w, b;
    if (auto* l = m->as<torch::nn::Linear>()) w = l->weight, b = l->bias;
    else if (auto* c = m->as<torch::nn::Conv2d>()) w = c->weight, b = c->bias;
    else if (auto* t = m->as<torch::nn::ConvTranspose2d>()) w = t->weight, b = t->bias;
    else continue;
    w.uniform_(-range, range);
    if (b.defined()) b.zero_();
  }
  spectral_power_iteration(net, kSpectralWarmup);  // the estimates follow the new weights
}

}  // namespace

const EnumNames<GanArch>& gan_arch_names() {
  static const EnumNames<GanArch> names{{GanArch::Mlp, "mlp"}, {GanArch::Conv, "conv"}};
  return names;
}

const EnumNames<GanNoise>& gan_noise_names() {
  static const EnumNames<GanNoise> names{{GanNoise::Uniform, "uniform"}, {GanNoise::Gaussian, "gaussian"}};
  return names;
}

const EnumNames<DiscriminatorUnit>& discriminator_unit_names() {
  static const EnumNames<DiscriminatorUnit> names{
      {DiscriminatorUnit::Maxout, "maxout"}, {DiscriminatorUnit::Relu, "relu"}, {DiscriminatorUnit::LeakyRelu, "leaky_relu"}};
  return names;
}

bool adversarial_points(const AdversarialNetOptions& o) { return o.shape().size() == 1; }

GeneratorImpl::GeneratorImpl(AdversarialNetOptions options) : options(std::move(options)) { reset(); }

void GeneratorImpl::reset() {
  const auto& o = options;
  TORCH_CHECK(o.noise_dims() >= 1, "model.noise_dims must be >= 1, got ", o.noise_dims());
  TORCH_CHECK(o.conditions() >= 0, "conditions must be >= 0");
  net = torch::nn::Sequential();
  const int64_t in = o.noise_dims() + o.conditions();
  if (o.arch() == GanArch::Mlp) {
    TORCH_CHECK(o.g_hidden() >= 1 && o.g_layers() >= 0, "model.g_hidden must be >= 1 and model.g_layers >= 0");
    int64_t width = in;
    for (int64_t l = 0; l < o.g_layers(); ++l) {
      net->push_back(torch::nn::Linear(width, o.g_hidden()));
      if (o.g_batchnorm()) net->push_back(torch::nn::BatchNorm1d(o.g_hidden()));
      net->push_back(torch::nn::ReLU());
      width = o.g_hidden();
    }
    net->push_back(torch::nn::Linear(width, flat_dims(o)));
  } else {
    TORCH_CHECK(o.shape().size() == 3 && o.shape()[1] == 28 && o.shape()[2] == 28,
                "model.arch = conv is the 28 x 28 DCGAN");
    using torch::nn::ConvTranspose2dOptions;
    auto block = [&](int64_t from, int64_t to, int64_t k, int64_t s, int64_t p) {
      net->push_back(torch::nn::ConvTranspose2d(ConvTranspose2dOptions(from, to, k).stride(s).padding(p).bias(false)));
      net->push_back(torch::nn::BatchNorm2d(to));
      net->push_back(torch::nn::ReLU());
    };
    net->push_back(torch::nn::Unflatten(torch::nn::UnflattenOptions(1, {in, 1, 1})));
    block(in, 256, 4, 1, 0);   // [256, 4, 4]
    block(256, 128, 3, 2, 1);  // [128, 7, 7]
    block(128, 64, 4, 2, 1);   // [64, 14, 14]
    net->push_back(torch::nn::ConvTranspose2d(ConvTranspose2dOptions(64, o.shape()[0], 4).stride(2).padding(1)));
  }
  register_module("net", net);
  init_uniform(*net, o.g_init_range());
}

void GeneratorImpl::init_from_marginals(const torch::Tensor& train_data) {
  if (!train_data.defined() || train_data.size(0) == 0 || adversarial_points(options)) return;
  torch::NoGradGuard no_grad;
  const int64_t dims = flat_dims(options);
  auto mean = train_data.reshape({train_data.size(0), dims}).to(torch::kFloat).mean(0);  // [D]
  torch::Tensor pre;  // the pre-activation whose output is the mean
  if (options.format() == PixelFormat::Symmetric)
    pre = torch::atanh(mean.clamp(-1 + 1e-3, 1 - 1e-3));
  else
    pre = marginal_logits(train_data.clamp(0, 1), dims);
  auto last = net->ptr(net->size() - 1);
  if (auto* linear = last->as<torch::nn::Linear>())
    linear->bias.copy_(pre);
  else
    last->as<torch::nn::ConvTranspose2d>()->bias.copy_(pre.reshape({options.shape()[0], -1}).mean(1));
}

torch::Tensor GeneratorImpl::forward(const torch::Tensor& z, const torch::Tensor& cond) {
  TORCH_CHECK(z.dim() == 2 && z.size(1) == options.noise_dims(), "generator: z must be [N, ", options.noise_dims(),
              "], got ", z.sizes());
  auto out = net->forward(with_condition(z, cond, options.conditions(), "generator"));
  std::vector<int64_t> shape{z.size(0)};
  for (auto s : options.shape()) shape.push_back(s);
  out = out.reshape(shape);  // [N, C, H, W] or [N, 2]
  switch (options.format()) {
    case PixelFormat::Unit: return torch::sigmoid(out);
    case PixelFormat::Symmetric: return torch::tanh(out);
    default: return out;
  }
}

DiscriminatorImpl::DiscriminatorImpl(AdversarialNetOptions options) : options(std::move(options)) { reset(); }

void DiscriminatorImpl::reset() {
  const auto& o = options;
  TORCH_CHECK(o.pack() >= 1, "model.pack must be >= 1, got ", o.pack());
  TORCH_CHECK(o.d_outputs() >= 1, "the discriminator needs >= 1 output");
  net = torch::nn::Sequential();
  head = torch::nn::Sequential();
  if (o.arch() == GanArch::Mlp) {
    TORCH_CHECK(o.d_hidden() >= 1 && o.d_layers() >= 0, "model.d_hidden must be >= 1 and model.d_layers >= 0");
    TORCH_CHECK(o.d_pieces() >= 1, "model.d_pieces must be >= 1, got ", o.d_pieces());
    TORCH_CHECK(o.d_input_dropout() >= 0 && o.d_input_dropout() < 1 && o.d_dropout() >= 0 && o.d_dropout() < 1,
                "model.d_input_dropout and model.d_dropout must be in [0, 1)");
    int64_t width = o.pack() * (flat_dims(o) + o.conditions());
    if (o.d_input_dropout() > 0) net->push_back(torch::nn::Dropout(o.d_input_dropout()));
    for (int64_t l = 0; l < o.d_layers(); ++l) {
      switch (o.d_unit()) {
        case DiscriminatorUnit::Maxout:
          net->push_back(GanMaxout(width, o.d_hidden(), o.d_pieces(), o.d_spectral_norm()));
          break;
        case DiscriminatorUnit::Relu:
          net->push_back(d_linear(width, o.d_hidden(), o.d_spectral_norm()));
          net->push_back(torch::nn::ReLU());
          break;
        case DiscriminatorUnit::LeakyRelu:
          net->push_back(d_linear(width, o.d_hidden(), o.d_spectral_norm()));
          net->push_back(torch::nn::LeakyReLU(torch::nn::LeakyReLUOptions().negative_slope(0.2)));
          break;
      }
      if (o.d_dropout() > 0) net->push_back(torch::nn::Dropout(o.d_dropout()));
      width = o.d_hidden();
    }
    head->push_back(d_linear(width, o.d_outputs(), o.d_spectral_norm()));
  } else {
    TORCH_CHECK(o.shape().size() == 3 && o.shape()[1] == 28 && o.shape()[2] == 28,
                "model.arch = conv is the 28 x 28 DCGAN");
    using torch::nn::Conv2dOptions;
    auto leaky = [] { return torch::nn::LeakyReLU(torch::nn::LeakyReLUOptions().negative_slope(0.2)); };
    const int64_t in = o.pack() * (o.shape()[0] + o.conditions());
    const bool sn = o.d_spectral_norm();
    net->push_back(d_conv(Conv2dOptions(in, 64, 4).stride(2).padding(1).bias(false), sn));  // [64, 14, 14]
    net->push_back(leaky());
    net->push_back(d_conv(Conv2dOptions(64, 128, 4).stride(2).padding(1).bias(false), sn));  // [128, 7, 7]
    net->push_back(torch::nn::BatchNorm2d(128));
    net->push_back(leaky());
    net->push_back(d_conv(Conv2dOptions(128, 256, 4).stride(2).padding(1).bias(false), sn));  // [256, 3, 3]
    net->push_back(torch::nn::BatchNorm2d(256));
    net->push_back(leaky());
    head->push_back(d_conv(Conv2dOptions(256, o.d_outputs(), 3), sn));  // [outputs, 1, 1]
    head->push_back(torch::nn::Flatten());
  }
  register_module("net", net);
  register_module("head", head);
  init_uniform(*this, o.d_init_range());
}

torch::Tensor DiscriminatorImpl::forward(const torch::Tensor& x, const torch::Tensor& cond) {
  return head->forward(features(x, cond));  // [N / pack, outputs]
}

torch::Tensor DiscriminatorImpl::features(const torch::Tensor& x, const torch::Tensor& cond) {
  const auto& o = options;
  const int64_t n = x.size(0), pack = o.pack();
  TORCH_CHECK(n % pack == 0, "discriminator: ", n, " samples do not divide into packs of ", pack);
  torch::Tensor in;
  if (o.arch() == GanArch::Mlp) {
    in = with_condition(x.reshape({n, -1}), cond, o.conditions(), "discriminator");  // [N, D + conditions]
    in = in.reshape({n / pack, -1});                                                  // [N / pack, pack * (...)]
  } else {
    in = x;
    if (o.conditions() > 0) {
      TORCH_CHECK(cond.defined() && cond.size(0) == n && cond.size(1) == o.conditions(),
                  "discriminator: needs a condition [", n, ", ", o.conditions(), "]");
      auto planes = cond.to(x.dtype()).view({n, o.conditions(), 1, 1}).expand({n, o.conditions(), x.size(2), x.size(3)});
      in = torch::cat({x, planes}, 1);  // [N, C + conditions, H, W]
    } else {
      TORCH_CHECK(!cond.defined(), "discriminator: an unconditional network takes no labels");
    }
    in = in.reshape({n / pack, -1, x.size(2), x.size(3)});  // packs along the channels
  }
  return net->forward(in);  // [N / pack, F] or [N / pack, 256, 3, 3]
}

void DiscriminatorImpl::constrain() {
  apply_max_norm();
  if (options.d_spectral_norm()) spectral_power_iteration(*this);
}

void DiscriminatorImpl::apply_max_norm() {
  if (options.d_max_norm() <= 0) return;
  torch::NoGradGuard no_grad;
  for (auto& m : modules(/*include_self=*/false))
    if (auto* linear = m->as<torch::nn::Linear>()) {
      auto& w = linear->weight;  // [out, in]: row u holds unit u's incoming weights
      auto norms = w.norm(2, 1, /*keepdim=*/true);
      w.mul_(torch::clamp_max(options.d_max_norm() / norms.clamp_min(1e-12), 1.0));
    }
}

AdversarialNetOptions read_adversarial_net_options(Config& cfg, const DataSpec& spec, AdversarialNetOptions defaults,
                                                   bool arch_key) {
  AdversarialNetOptions o = std::move(defaults);
  if (spec.points())
    o.shape({2});
  else
    o.shape({spec.channels, spec.height, spec.width});
  o.format(spec.format)
      .arch(arch_key ? cfg.get_enum("model.arch", o.arch(), gan_arch_names()) : o.arch())
      .noise_dims(cfg.get_int("model.noise_dims", o.noise_dims()))
      .noise(cfg.get_enum("model.noise", o.noise(), gan_noise_names()))
      .pack(cfg.get_int("model.pack", o.pack()))
      .d_spectral_norm(cfg.get_bool("model.d_spectral_norm", o.d_spectral_norm()));
  if (o.arch() == GanArch::Conv && (spec.points() || spec.height != 28 || spec.width != 28))
    throw Error("model.arch = conv is the 28 x 28 DCGAN: the data are " +
                (spec.points() ? std::string("2-D points") : std::to_string(spec.height) + " x " + std::to_string(spec.width)) +
                " (use model.arch = mlp)");
  if (o.arch() == GanArch::Mlp) {
    o.g_hidden(cfg.get_int("model.g_hidden", o.g_hidden()))
        .g_layers(cfg.get_int("model.g_layers", o.g_layers()))
        .g_batchnorm(cfg.get_bool("model.g_batchnorm", o.g_batchnorm()))
        .d_unit(cfg.get_enum("model.d_unit", o.d_unit(), discriminator_unit_names()))
        .d_hidden(cfg.get_int("model.d_hidden", o.d_hidden()))
        .d_layers(cfg.get_int("model.d_layers", o.d_layers()))
        .d_input_dropout(cfg.get_double("model.d_input_dropout", o.d_input_dropout()))
        .d_dropout(cfg.get_double("model.d_dropout", o.d_dropout()))
        .d_max_norm(cfg.get_double("model.d_max_norm", o.d_max_norm()))
        .g_init_range(cfg.get_double("model.g_init_range", o.g_init_range()))
        .d_init_range(cfg.get_double("model.d_init_range", o.d_init_range()));
    for (auto [v, key] : {std::pair{o.d_max_norm(), "model.d_max_norm"}, std::pair{o.g_init_range(), "model.g_init_range"},
                          std::pair{o.d_init_range(), "model.d_init_range"}})
      if (!(v >= 0) || !std::isfinite(v))
        throw Error(std::string("config key '") + key + "' must be a finite number >= 0 (0 = LibTorch's default / none)");
    if (o.d_unit() == DiscriminatorUnit::Maxout) o.d_pieces(cfg.get_int("model.d_pieces", o.d_pieces()));
  }
  auto at_least = [](int64_t v, int64_t lo, const char* key) {
    if (v < lo) throw Error(std::string("config key '") + key + "' must be >= " + std::to_string(lo) + ", got " + std::to_string(v));
  };
  at_least(o.noise_dims(), 1, "model.noise_dims");
  at_least(o.pack(), 1, "model.pack");
  at_least(o.g_hidden(), 1, "model.g_hidden");
  at_least(o.g_layers(), 0, "model.g_layers");
  at_least(o.d_hidden(), 1, "model.d_hidden");
  at_least(o.d_layers(), 0, "model.d_layers");
  at_least(o.d_pieces(), 1, "model.d_pieces");
  for (auto [v, key] : {std::pair{o.d_input_dropout(), "model.d_input_dropout"}, std::pair{o.d_dropout(), "model.d_dropout"}})
    if (!(v >= 0 && v < 1)) throw Error(std::string("config key '") + key + "' must be in [0, 1), got " + std::to_string(v));
  return o;
}

}  // namespace genzoo
