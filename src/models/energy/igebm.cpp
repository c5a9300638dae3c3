#include "genzoo/models/energy/igebm.h"

#include <cmath>
#include <string>

#include "genzoo/core/error.h"
#include "genzoo/models/spectral_norm.h"

namespace genzoo {

const EnumNames<IgebmArch>& igebm_arch_names() {
  static const EnumNames<IgebmArch> names({{IgebmArch::Conv, "conv"}, {IgebmArch::ResNet, "resnet"}});
  return names;
}

const EnumNames<IgebmUnit>& igebm_unit_names() {
  static const EnumNames<IgebmUnit> names({{IgebmUnit::LeakyRelu, "leaky_relu"}, {IgebmUnit::Swish, "swish"}});
  return names;
}

const EnumNames<IgebmStart>& igebm_start_names() {
  static const EnumNames<IgebmStart> names({{IgebmStart::Buffer, "buffer"}, {IgebmStart::Noise, "noise"}});
  return names;
}

namespace {

struct IgebmConvSpec {
  int64_t in, out, kernel, stride;
};

// The convolutions of each architecture, in forward order. For resnet,
// block b holds convs 1 + 3b (first), 2 + 3b (second), 3 + 3b (1x1 skip).
std::vector<IgebmConvSpec> igebm_conv_specs(const IgebmOptions& o) {
  const int64_t c = o.channels(), f = o.filters();
  if (o.arch() == IgebmArch::Conv) return {{c, f, 3, 1}, {f, f, 4, 2}, {f, 2 * f, 4, 2}, {2 * f, 4 * f, 4, 2}};
  std::vector<IgebmConvSpec> specs{{c, f, 3, 1}};
  const int64_t widths[4] = {f, f, 2 * f, 2 * f};
  for (int b = 0; b < 3; ++b) {
    specs.push_back({widths[b], widths[b + 1], 3, 1});
    specs.push_back({widths[b + 1], widths[b + 1], 3, 1});
    specs.push_back({widths[b], widths[b + 1], 1, 1});
  }
  return specs;
}

// "Same" padding (TensorFlow's): the output side is ceil(side / stride).
torch::Tensor igebm_same_pad(const torch::Tensor& x, int64_t kernel, int64_t stride) {
  auto total = [&](int64_t side) {
    const int64_t out = (side + stride - 1) / stride;
    return std::max<int64_t>((out - 1) * stride + kernel - side, 0);
  };
  const int64_t th = total(x.size(2)), tw = total(x.size(3));
  if (th == 0 && tw == 0) return x;
  return torch::constant_pad_nd(x, {tw / 2, tw - tw / 2, th / 2, th - th / 2});
}

int64_t ceil_half(int64_t side) { return (side + 1) / 2; }

}  // namespace

IgebmImpl::IgebmImpl(IgebmOptions options_) : options(std::move(options_)) { reset(); }

void IgebmImpl::reset() {
  const auto& o = options;
  TORCH_CHECK(o.channels() >= 1 && o.height() >= 1 && o.width() >= 1, "igebm: channels, height, width must be >= 1");
  TORCH_CHECK(o.classes() == 0 || o.classes() >= 2, "igebm: a conditional energy needs at least 2 classes");
  TORCH_CHECK(o.filters() >= 1, "igebm: filters must be >= 1");
  TORCH_CHECK(o.step_size() > 0 && o.noise() >= 0 && o.grad_clip() >= 0 && o.sample_steps() >= 0,
              "igebm: step_size must be > 0, noise, grad_clip and sample_steps >= 0");
  TORCH_CHECK(o.buffer_size() >= 1, "igebm: buffer_size must be >= 1");
  convs = register_module("convs", torch::nn::ModuleList());
  linears = register_module("linears", torch::nn::ModuleList());
  gains.clear();
  biases.clear();
  const auto specs = igebm_conv_specs(o);
  for (size_t i = 0; i < specs.size(); ++i) {
    const auto& s = specs[i];
    auto conv_options = torch::nn::Conv2dOptions(s.in, s.out, s.kernel).stride(s.stride).padding(0);
    if (o.spectral_norm())
      convs->push_back(SpectralConv2d(conv_options));
    else
      convs->push_back(torch::nn::Conv2d(conv_options));
    if (o.classes() > 0) {
      gains.push_back(register_parameter("gain" + std::to_string(i), torch::ones({o.classes(), s.out})));
      biases.push_back(register_parameter("bias" + std::to_string(i), torch::zeros({o.classes(), s.out})));
    }
  }
  const int64_t f = o.filters();
  if (o.arch() == IgebmArch::Conv) {
    const int64_t h = ceil_half(ceil_half(ceil_half(o.height()))), w = ceil_half(ceil_half(ceil_half(o.width())));
    auto dense = torch::nn::LinearOptions(4 * f * h * w, 2 * f);
    if (o.spectral_norm())
      linears->push_back(SpectralLinear(dense));
    else
      linears->push_back(torch::nn::Linear(dense));
  }
  linears->push_back(torch::nn::Linear(2 * f, 1));  // the last layer: never normalised
  replay = register_module("replay", ReplayBuffer(o.buffer_size(), std::vector<int64_t>{o.channels(), o.height(), o.width()},
                                                  std::max<int64_t>(o.classes(), 1)));
}

torch::Tensor IgebmImpl::conv(size_t i, const torch::Tensor& x) {
  const auto& m = (*convs)[i];
  if (auto* s = m->as<SpectralConv2dImpl>()) {
    const int64_t k = s->options.kernel_size()->at(0), st = s->options.stride()->at(0);
    return s->forward(igebm_same_pad(x, k, st));
  }
  auto* c = m->as<torch::nn::Conv2dImpl>();
  return c->forward(igebm_same_pad(x, c->options.kernel_size()->at(0), c->options.stride()->at(0)));
}

torch::Tensor IgebmImpl::linear(size_t i, const torch::Tensor& x) {
  const auto& m = (*linears)[i];
  if (auto* s = m->as<SpectralLinearImpl>()) return s->forward(x);
  return m->as<torch::nn::LinearImpl>()->forward(x);
}

torch::Tensor IgebmImpl::unit(const torch::Tensor& h) const {
  return options.unit() == IgebmUnit::Swish ? h * torch::sigmoid(h) : torch::leaky_relu(h, 0.2);
}

torch::Tensor IgebmImpl::condition(const torch::Tensor& h, size_t layer, const torch::Tensor& labels) const {
  if (options.classes() == 0) return h;
  auto g = gains[layer].index_select(0, labels).unsqueeze(2).unsqueeze(3);   // [N, F, 1, 1]
  auto b = biases[layer].index_select(0, labels).unsqueeze(2).unsqueeze(3);  // [N, F, 1, 1]
  return h * g + b;
}

torch::Tensor IgebmImpl::class_energy(const torch::Tensor& x, const torch::Tensor& labels_in) {
  const auto& o = options;
  TORCH_CHECK(x.dim() == 4 && x.size(1) == o.channels() && x.size(2) == o.height() && x.size(3) == o.width(),
              "igebm: expected images [N, ", o.channels(), ", ", o.height(), ", ", o.width(), "], got ", x.sizes());
  torch::Tensor labels;
  if (o.classes() > 0) {
    TORCH_CHECK(labels_in.defined() && labels_in.dim() == 1 && labels_in.size(0) == x.size(0),
                "igebm: a conditional energy needs one label per image");
    labels = labels_in.to(torch::kLong);
  } else {
    TORCH_CHECK(!labels_in.defined(), "igebm: an unconditional energy takes no labels");
  }
  torch::Tensor h = unit(condition(conv(0, x), 0, labels));
  if (o.arch() == IgebmArch::Conv) {
    for (size_t i = 1; i < 4; ++i) h = unit(condition(conv(i, h), i, labels));
    h = unit(linear(0, h.flatten(1)));
    return linear(1, h).squeeze(1);
  }
  for (size_t b = 0; b < 3; ++b) {
    const size_t first = 1 + 3 * b;
    auto r = unit(condition(conv(first, h), first, labels));
    r = condition(conv(first + 1, r), first + 1, labels);
    auto skip = condition(conv(first + 2, h), first + 2, labels);
    h = torch::avg_pool2d(unit(skip + r), 2, 2, 0, /*ceil_mode=*/true);
  }
  return linear(0, h.sum({2, 3})).squeeze(1);
}

torch::Tensor IgebmImpl::all_class_energies(const torch::Tensor& x) {
  const int64_t k = options.classes();
  TORCH_CHECK(k > 0, "igebm: an unconditional energy has no classes");
  const int64_t n = x.size(0);
  auto rows = x.repeat_interleave(k, 0);                                           // [N K, ...]
  auto labels = torch::arange(k, torch::kLong).repeat({n});                        // 0..K-1 per row
  return class_energy(rows, labels).view({n, k});
}

torch::Tensor IgebmImpl::energy(const torch::Tensor& x) {
  if (options.classes() == 0) return class_energy(x, {});
  return -torch::logsumexp(-all_class_energies(x), 1);
}

LangevinOptions IgebmImpl::langevin_options(int64_t steps) const {
  return LangevinOptions::separate(options.step_size(), options.noise(), steps)
      .noise_first(true)
      .grad_clip(options.grad_clip())
      .clamp(true)
      .low(0.0)
      .high(1.0);
}

ChainResult IgebmImpl::run_chains(const torch::Tensor& x0, const torch::Tensor& labels, int64_t steps,
                                  const torch::Tensor& observed) {
  return langevin([&](const torch::Tensor& x) { return class_energy(x, labels); }, x0, langevin_options(steps),
                  observed);
}

torch::Tensor IgebmImpl::chain_starts(const torch::Tensor& labels, double reinit, IgebmStart from) const {
  if (from == IgebmStart::Noise)
    return torch::rand({labels.size(0), options.channels(), options.height(), options.width()});
  return replay->draw(options.classes() > 0 ? labels : torch::zeros({labels.size(0)}, torch::kLong), reinit).x;
}

torch::Tensor IgebmImpl::sample_given(const torch::Tensor& labels_in) {
  TORCH_CHECK(labels_in.dim() == 1, "igebm: labels must be [n]");
  if (options.classes() == 0) throw Error("igebm: this energy is unconditional: no classes (train a cigebm)");
  auto labels = labels_in.to(torch::kLong);
  if (labels.numel() > 0 && (labels.min().item<int64_t>() < 0 || labels.max().item<int64_t>() >= options.classes()))
    throw Error("igebm: labels must be in 0.." + std::to_string(options.classes() - 1));
  auto start = chain_starts(labels, 0.0, options.sample_from());
  if (labels.size(0) == 0) return start;
  return run_chains(start, labels, options.sample_steps()).x;
}

torch::Tensor IgebmImpl::sample(int64_t n) {
  TORCH_CHECK(n >= 0, "igebm: sample count must be >= 0");
  if (options.classes() > 0) return sample_given(torch::randint(0, options.classes(), {n}, torch::kLong));
  auto start = chain_starts(torch::zeros({n}, torch::kLong), 0.0, options.sample_from());
  if (n == 0) return start;
  return run_chains(start, {}, options.sample_steps()).x;
}

torch::Tensor IgebmImpl::class_logits(const torch::Tensor& x) {
  if (options.classes() == 0)
    throw Error("igebm: an unconditional energy does not classify (train a cigebm)");
  return -all_class_energies(x);
}

torch::Tensor IgebmImpl::complete(const torch::Tensor& x, const torch::Tensor& observed) {
  TORCH_CHECK(observed.dim() == 4 && (observed.size(0) == x.size(0) || observed.size(0) == 1) &&
                  observed.sizes().slice(1) == x.sizes().slice(1),
              "igebm: the mask must be [N or 1, C, H, W] like the images");
  auto keep = observed.to(torch::kBool).expand(x.sizes()).contiguous();
  auto start = torch::where(keep, x.to(torch::kFloat32), torch::rand(x.sizes()));
  auto energy_fn = [this](const torch::Tensor& v) { return energy(v); };
  return langevin(energy_fn, start, langevin_options(options.sample_steps()), keep).x;
}

torch::Tensor IgebmImpl::restore(const torch::Tensor& x) {
  auto energy_fn = [this](const torch::Tensor& v) { return energy(v); };
  return langevin(energy_fn, x.to(torch::kFloat32).clamp(0, 1), langevin_options(options.sample_steps())).x;
}

std::string IgebmImpl::completion_note(const torch::Tensor&) const {
  return "Langevin: the observed pixels held fixed, the missing ones from uniform noise through " +
         std::to_string(options.sample_steps()) + " steps on the energy" +
         (options.classes() > 0 ? std::string(" (the marginal over classes)") : std::string());
}

ConditionalIgebmImpl::ConditionalIgebmImpl(IgebmOptions options_) : options(std::move(options_)) { reset(); }

void ConditionalIgebmImpl::reset() {
  TORCH_CHECK(options.classes() >= 2, "cigebm: needs at least 2 classes");
  net = register_module("net", Igebm(options));
}

IgebmImpl* igebm_core(const ModulePtr& model) {
  if (auto* m = dynamic_cast<IgebmImpl*>(model.get())) return m;
  if (auto* c = dynamic_cast<ConditionalIgebmImpl*>(model.get())) return c->net.get();
  return nullptr;
}

namespace {

IgebmOptions read_igebm_options(Config& c, const DataSpec& data) {
  const IgebmOptions d;
  IgebmOptions o;
  o.channels(data.channels).height(data.height).width(data.width);
  o.arch(c.get_enum("model.arch", d.arch(), igebm_arch_names()));
  o.filters(c.get_int("model.filters", d.filters()));
  if (o.filters() < 1) throw Error("config key 'model.filters' must be >= 1");
  o.unit(c.get_enum("model.unit", d.unit(), igebm_unit_names()));
  o.spectral_norm(c.get_bool("model.spectral_norm", d.spectral_norm()));
  o.step_size(c.get_double("model.step_size", d.step_size()));
  if (!(o.step_size() > 0) || !std::isfinite(o.step_size()))
    throw Error("config key 'model.step_size' must be > 0 (the Langevin step on the clipped gradient)");
  o.noise(c.get_double("model.noise", d.noise()));
  if (!(o.noise() >= 0) || !std::isfinite(o.noise()))
    throw Error("config key 'model.noise' must be >= 0 (the Langevin noise sd)");
  o.grad_clip(c.get_double("model.grad_clip", d.grad_clip()));
  if (!(o.grad_clip() >= 0) || !std::isfinite(o.grad_clip()))
    throw Error("config key 'model.grad_clip' must be >= 0 (0: no clipping)");
  o.sample_steps(c.get_int("model.sample_steps", d.sample_steps()));
  if (o.sample_steps() < 0) throw Error("config key 'model.sample_steps' must be >= 0");
  o.sample_from(c.get_enum("model.sample_from", d.sample_from(), igebm_start_names()));
  o.buffer_size(c.get_int("objective.buffer_size", d.buffer_size()));
  if (o.buffer_size() < 1) throw Error("config key 'objective.buffer_size' must be >= 1");
  return o;
}

}  // namespace

ModelInfo igebm_model_info() {
  ModelInfo info;
  info.name = "igebm";
  info.family = "energy";
  info.description =
      "IGEBM (Du & Mordatch 2019): a ConvNet energy, Langevin chains from a replay buffer, spectral norm";
  info.capabilities = {Capability::Sample, Capability::Complete, Capability::Energy};
  info.accepts.formats = {PixelFormat::Unit};
  info.create = [](ModelContext& ctx) -> ModulePtr { return Igebm(read_igebm_options(*ctx.config, ctx.data)).ptr(); };
  return info;
}

ModelInfo cigebm_model_info() {
  ModelInfo info;
  info.name = "cigebm";
  info.family = "energy";
  info.description = "class-conditional IGEBM E(x, y) (per-class gain and bias); classifies by argmin_y E(x, y)";
  info.capabilities = {Capability::Sample, Capability::Complete, Capability::Energy, Capability::Conditional};
  info.accepts.formats = {PixelFormat::Unit};
  info.accepts.labels = true;
  info.create = [](ModelContext& ctx) -> ModulePtr {
    if (ctx.data.classes < 2)
      throw Error("cigebm needs labelled data with at least 2 classes (fashion-mnist, mnist-10k, idx:IMAGES,LABELS)");
    auto o = read_igebm_options(*ctx.config, ctx.data);
    o.classes(ctx.data.classes);
    if (o.buffer_size() < o.classes())
      throw Error("config key 'objective.buffer_size' must be at least the number of classes (" +
                  std::to_string(o.classes()) + "): one partition per class");
    return ConditionalIgebm(o).ptr();
  };
  return info;
}

}  // namespace genzoo
