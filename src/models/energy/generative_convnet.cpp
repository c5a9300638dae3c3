#include "genzoo/models/energy/generative_convnet.h"

#include <cctype>
#include <cmath>

#include "genzoo/core/error.h"

namespace genzoo {

const EnumNames<GcnUnit>& gcn_unit_names() {
  static const EnumNames<GcnUnit> names{{GcnUnit::Relu, "relu"},
                                        {GcnUnit::LeakyRelu, "leaky_relu"},
                                        {GcnUnit::Sigmoid, "sigmoid"},
                                        {GcnUnit::Tanh, "tanh"},
                                        {GcnUnit::Swish, "swish"}};
  return names;
}

const EnumNames<GcnTop>& gcn_top_names() {
  static const EnumNames<GcnTop> names{{GcnTop::Sum, "sum"}, {GcnTop::Linear, "linear"}};
  return names;
}

const EnumNames<GcnReference>& gcn_reference_names() {
  static const EnumNames<GcnReference> names{
      {GcnReference::Gaussian, "gaussian"}, {GcnReference::Laplace, "laplace"}, {GcnReference::Uniform, "uniform"}};
  return names;
}

namespace {

// Reads a positive decimal number at s[i], advancing i; -1 when there is none.
int64_t gcn_read_number(const std::string& s, size_t& i) {
  if (i >= s.size() || !std::isdigit(static_cast<unsigned char>(s[i]))) return -1;
  int64_t v = 0;
  while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])) && v < 1000000) v = v * 10 + (s[i++] - '0');
  return v;
}

// d unit(h) / dh, elementwise.
torch::Tensor gcn_unit_slope(GcnUnit unit, const torch::Tensor& h) {
  switch (unit) {
    case GcnUnit::Relu: return (h > 0).to(h.dtype());
    case GcnUnit::LeakyRelu: return torch::where(h > 0, torch::ones_like(h), torch::full_like(h, 0.2));
    case GcnUnit::Sigmoid: {
      auto s = torch::sigmoid(h);
      return s * (1 - s);
    }
    case GcnUnit::Tanh: return 1 - torch::tanh(h).pow(2);
    case GcnUnit::Swish: {
      auto s = torch::sigmoid(h);
      return s + h * s * (1 - s);
    }
  }
  return torch::ones_like(h);
}

torch::Tensor gcn_apply_unit(GcnUnit unit, const torch::Tensor& h) {
  switch (unit) {
    case GcnUnit::Relu: return torch::relu(h);
    case GcnUnit::LeakyRelu: return torch::leaky_relu(h, 0.2);
    case GcnUnit::Sigmoid: return torch::sigmoid(h);
    case GcnUnit::Tanh: return torch::tanh(h);
    case GcnUnit::Swish: return h * torch::sigmoid(h);
  }
  return h;
}

}  // namespace

std::vector<GcnLayer> parse_gcn_layers(const std::string& spec, const std::string& key) {
  const std::string usage = "config key '" + key + "' must list convolutions as FxKsSpP separated by commas (e.g. "
                            "100x15s3p2,64x5s1p2: 100 filters of 15 x 15, stride 3, padding 2, ...), got '" + spec + "'";
  std::vector<GcnLayer> layers;
  size_t i = 0;
  while (i < spec.size()) {
    GcnLayer l;
    l.filters = gcn_read_number(spec, i);
    if (l.filters < 1 || i >= spec.size() || spec[i++] != 'x') throw Error(usage);
    l.kernel = gcn_read_number(spec, i);
    if (l.kernel < 1 || i >= spec.size() || spec[i++] != 's') throw Error(usage);
    l.stride = gcn_read_number(spec, i);
    if (l.stride < 1 || i >= spec.size() || spec[i++] != 'p') throw Error(usage);
    l.padding = gcn_read_number(spec, i);
    if (l.padding < 0 || l.padding >= 1000000) throw Error(usage);
    layers.push_back(l);
    if (i < spec.size() && spec[i++] != ',') throw Error(usage);
    if (i == spec.size() && spec.back() == ',') throw Error(usage);
  }
  if (layers.empty()) throw Error(usage);
  return layers;
}

int64_t gcn_output_side(const std::vector<GcnLayer>& layers, int64_t side) {
  for (const auto& l : layers) {
    if (side + 2 * l.padding < l.kernel) return 0;
    side = (side + 2 * l.padding - l.kernel) / l.stride + 1;
  }
  return side;
}

std::string gcn_layers_string(const std::vector<GcnLayer>& layers) {
  std::string s;
  for (const auto& l : layers) {
    if (!s.empty()) s += ",";
    s += std::to_string(l.filters) + "x" + std::to_string(l.kernel) + "s" + std::to_string(l.stride) + "p" +
         std::to_string(l.padding);
  }
  return s;
}

GenerativeConvNetImpl::GenerativeConvNetImpl(GenerativeConvNetOptions options_) : options(std::move(options_)) {
  reset();
}

void GenerativeConvNetImpl::reset() {
  TORCH_CHECK(options.channels() >= 1 && options.height() >= 1 && options.width() >= 1,
              "genconvnet: channels, height and width must be >= 1");
  TORCH_CHECK(!options.layers().empty(), "genconvnet: f needs at least one convolution");
  TORCH_CHECK(options.sigma() > 0 && std::isfinite(options.sigma()), "genconvnet: sigma must be > 0");
  TORCH_CHECK(options.step_size() > 0 && std::isfinite(options.step_size()), "genconvnet: step_size must be > 0");
  TORCH_CHECK(options.sample_steps() >= 0, "genconvnet: sample_steps must be >= 0");
  TORCH_CHECK(options.init_std() > 0, "genconvnet: init_std must be > 0");
  convs = register_module("convs", torch::nn::ModuleList());
  TORCH_CHECK(positions(options.height(), options.width()) >= 1, "genconvnet: the convolutions ",
              gcn_layers_string(options.layers()), " do not fit a ", options.height(), " x ", options.width(),
              " image (each layer needs side + 2 padding >= kernel)");
  int64_t in = options.channels();
  for (const auto& l : options.layers()) {
    torch::nn::Conv2d conv(torch::nn::Conv2dOptions(in, l.filters, l.kernel).stride(l.stride).padding(l.padding));
    torch::NoGradGuard no_grad;
    conv->weight.normal_(0, options.init_std());
    conv->bias.zero_();
    convs->push_back(conv);
    in = l.filters;
  }
  if (options.top() == GcnTop::Linear) {
    top = register_module("top", torch::nn::Linear(in * positions(options.height(), options.width()), 1));
    torch::NoGradGuard no_grad;
    top->weight.normal_(0, options.init_std());
    top->bias.zero_();
  } else {
    top = nullptr;
  }
  TORCH_CHECK(options.grey_units() >= 0, "genconvnet: grey_units must be >= 0");
  grey_weight = options.grey_units() > 0
                    ? register_parameter("grey_weight", torch::zeros({options.channels(), options.grey_units()}))
                    : torch::Tensor();
  mean = register_buffer("mean", torch::full({options.channels()}, 0.5));
  TORCH_CHECK(options.chains() >= 1, "genconvnet: chains must be >= 1");
  synthesis = register_buffer("synthesis",
                              torch::zeros({options.chains(), options.channels(), options.height(), options.width()}));
  synthesis_steps = register_buffer("synthesis_steps", torch::zeros({}, torch::kLong));
  TORCH_CHECK(!options.staged() || options.top() == GcnTop::Sum,
              "genconvnet: a staged f needs top = sum (a linear top reads the last layer only)");
  depth_ = options.staged() ? register_buffer("depth", torch::ones({}, torch::kLong)) : torch::Tensor();
}

int64_t GenerativeConvNetImpl::depth() const {
  return depth_.defined() ? depth_.item<int64_t>() : static_cast<int64_t>(options.layers().size());
}

void GenerativeConvNetImpl::set_depth(int64_t d) {
  const auto layers = static_cast<int64_t>(options.layers().size());
  if (!depth_.defined()) throw Error("genconvnet: only a staged model (objective.layer_steps > 0) changes its depth");
  if (d < 1 || d > layers)
    throw Error("genconvnet: depth " + std::to_string(d) + " is not in 1.." + std::to_string(layers));
  depth_.fill_(d);
}

void GenerativeConvNetImpl::keep_synthesis(const torch::Tensor& images, int64_t steps) {
  TORCH_CHECK(images.sizes() == synthesis.sizes(), "genconvnet: the synthesis is ", synthesis.sizes(), ", got ",
              images.sizes());
  torch::NoGradGuard no_grad;
  synthesis.copy_(images);
  synthesis_steps.add_(steps);
}

GcnSamplerKeys read_gcn_sampler_keys(Config& c, const GcnSamplerKeys& defaults) {
  GcnSamplerKeys k;
  k.sigma = c.get_double("model.sigma", defaults.sigma);
  if (!(k.sigma > 0) || !std::isfinite(k.sigma)) throw Error("config key 'model.sigma' must be > 0");
  k.step_size = c.get_double("model.step_size", defaults.step_size);
  if (!(k.step_size > 0) || !std::isfinite(k.step_size))
    throw Error("config key 'model.step_size' must be > 0 (the Langevin step delta)");
  k.sample_steps = c.get_int("model.sample_steps", defaults.sample_steps);
  if (k.sample_steps < 0) throw Error("config key 'model.sample_steps' must be >= 0");
  return k;
}

torch::Tensor gcn_to_model(const torch::Tensor& x, const torch::Tensor& mean) {
  return 255.0 * (x - mean.view({1, -1, 1, 1}));
}

torch::Tensor gcn_to_data(const torch::Tensor& image, const torch::Tensor& mean) {
  return image / 255.0 + mean.view({1, -1, 1, 1});
}

void gcn_set_mean(torch::Tensor& mean, const torch::Tensor& train, const char* who) {
  TORCH_CHECK(train.dim() == 4 && train.size(1) == mean.size(0) && train.size(0) >= 1, who,
              ": the mean needs images [N, ", mean.size(0), ", H, W]");
  torch::NoGradGuard no_grad;
  mean.copy_(train.to(torch::kFloat64).mean({0, 2, 3}).to(mean.dtype()));
}

void GenerativeConvNetImpl::set_mean(const torch::Tensor& train) { gcn_set_mean(mean, train, "genconvnet"); }

torch::Tensor GenerativeConvNetImpl::to_model(const torch::Tensor& x) const { return gcn_to_model(x, mean); }

torch::Tensor GenerativeConvNetImpl::to_data(const torch::Tensor& image) const { return gcn_to_data(image, mean); }

torch::Tensor GenerativeConvNetImpl::features(const torch::Tensor& image) {
  TORCH_CHECK(image.dim() == 4 && image.size(1) == options.channels(), "genconvnet: expected images [N, ",
              options.channels(), ", H, W], got ", image.sizes());
  return layer_responses(image, depth() - 1);  // [N, F, H', W']
}

torch::Tensor GenerativeConvNetImpl::read_out(const torch::Tensor& h) {
  return options.top() == GcnTop::Sum ? h.flatten(1).sum(1) : top->forward(h.flatten(1)).squeeze(1);  // [N]
}

torch::Tensor GenerativeConvNetImpl::score(const torch::Tensor& image) {
  torch::Tensor h = features(image);  // checks the shape
  TORCH_CHECK(options.top() == GcnTop::Sum || (image.size(2) == options.height() && image.size(3) == options.width()),
              "genconvnet: with top = linear f takes ", options.height(), " x ", options.width(), " images only, got ",
              image.size(2), " x ", image.size(3));
  auto f = read_out(h);
  return grey_weight.defined() ? f + grey_term(image) : f;
}

torch::Tensor GenerativeConvNetImpl::grey_thresholds() const {
  const int64_t k = options.grey_units();
  auto t = (torch::arange(k, mean.options()) + 0.5) / static_cast<double>(k);  // [K] in [0, 1]
  return 255.0 * (t.view({1, k}) - mean.view({-1, 1}));                        // [C, K]
}

torch::Tensor GenerativeConvNetImpl::weigh_grey_units(const torch::Tensor& per_unit) const {
  const int64_t c = options.channels(), k = options.grey_units();
  return (per_unit.sum({3, 4}) * grey_weight.to(per_unit.dtype()).view({1, c, k})).sum({1, 2});  // [N]
}

torch::Tensor GenerativeConvNetImpl::grey_term(const torch::Tensor& image) {
  if (!grey_weight.defined()) return torch::zeros({image.size(0)}, image.options());
  const int64_t c = options.channels(), k = options.grey_units();
  auto beta = grey_thresholds().to(image.dtype()).view({1, c, k, 1, 1});
  return weigh_grey_units(torch::relu(image.unsqueeze(2) - beta));
}

torch::Tensor GenerativeConvNetImpl::reference_energy(const torch::Tensor& image) const {
  switch (options.reference()) {
    case GcnReference::Gaussian: return image.pow(2).flatten(1).sum(1) / (2 * options.sigma() * options.sigma());
    case GcnReference::Laplace: return image.abs().flatten(1).sum(1) / options.sigma();
    case GcnReference::Uniform: break;
  }
  return torch::zeros({image.size(0)}, image.options());  // constant on the support
}

torch::Tensor GenerativeConvNetImpl::model_energy(const torch::Tensor& image) {
  return reference_energy(image) - score(image);  // [N]
}

torch::Tensor GenerativeConvNetImpl::energy(const torch::Tensor& x) { return model_energy(to_model(x)); }

int64_t GenerativeConvNetImpl::positions(int64_t height, int64_t width) {
  const std::vector<GcnLayer> read(options.layers().begin(), options.layers().begin() + depth());
  return gcn_output_side(read, height) * gcn_output_side(read, width);
}

GcnPiece GenerativeConvNetImpl::piece(const torch::Tensor& image) {
  const GcnUnit unit = options.unit();
  GcnPiece piece;
  torch::AutoGradMode enable(true);
  auto input = image.detach().requires_grad_(true);
  // The forward pass records each unit's slope at its input; a second,
  // linear pass from the zero image through the same slopes gives alpha.
  // For ReLU and leaky ReLU, unit(h) = slope * h exactly, so the two
  // passes describe one linear function on the piece; for a smooth unit
  // unit(h) - slope * h is not 0 and the residual shows by how much.
  std::vector<torch::Tensor> slopes;
  torch::Tensor h = input;
  for (int64_t l = 0; l < depth(); ++l) {
    auto pre = (*convs)[l]->as<torch::nn::Conv2d>()->forward(h);
    auto on = pre > 0;
    piece.pattern.push_back(on.detach());
    slopes.push_back(gcn_unit_slope(unit, pre.detach()));
    h = gcn_apply_unit(unit, pre);
  }
  auto f = read_out(h);  // [N]
  if (grey_weight.defined()) f = f + grey_term(input);
  piece.basis = torch::autograd::grad({f.sum()}, {input})[0].detach();
  {
    torch::NoGradGuard no_grad;
    torch::Tensor g = torch::zeros_like(image);
    for (size_t l = 0; l < slopes.size(); ++l) g = slopes[l] * (*convs)[l]->as<torch::nn::Conv2d>()->forward(g);
    piece.alpha = read_out(g);
    if (grey_weight.defined()) {
      // A grey unit on at a pixel adds w (I − β): its part of α is −w β.
      auto beta = grey_thresholds().to(image.dtype()).view({1, options.channels(), options.grey_units(), 1, 1});
      piece.alpha = piece.alpha - weigh_grey_units((image.unsqueeze(2) > beta).to(image.dtype()) * beta);
    }
    if (options.reference() == GcnReference::Gaussian)
      piece.reconstruction = options.sigma() * options.sigma() * piece.basis;
    piece.score = f.detach();
    piece.residual = piece.score - piece.alpha - (image * piece.basis).flatten(1).sum(1);
  }
  return piece;
}

std::vector<int64_t> GenerativeConvNetImpl::unit_layers() const {
  std::vector<int64_t> sizes;
  for (const auto& l : options.layers()) sizes.push_back(l.filters);
  return sizes;
}

torch::Tensor GenerativeConvNetImpl::layer_responses(const torch::Tensor& image, int64_t layer) {
  TORCH_CHECK(layer >= 0 && layer < static_cast<int64_t>(convs->size()), "genconvnet: no layer ", layer);
  torch::Tensor h = image;
  for (int64_t l = 0; l <= layer; ++l) h = gcn_apply_unit(options.unit(), (*convs)[l]->as<torch::nn::Conv2d>()->forward(h));
  return h;  // [N, F_layer, H', W']
}

torch::Tensor GenerativeConvNetImpl::maximise_units(const torch::Tensor& x0, int64_t layer, const torch::Tensor& units,
                                                    int64_t steps) {
  const auto sizes = unit_layers();
  if (layer < 0 || layer >= static_cast<int64_t>(sizes.size()))
    throw Error("genconvnet has layers 1.." + std::to_string(sizes.size()) + ", not " + std::to_string(layer + 1));
  TORCH_CHECK(units.dim() == 1 && units.size(0) == x0.size(0), "genconvnet: one unit per chain");
  auto pick = units.to(torch::kLong).view({-1, 1, 1, 1});
  auto energy = [&](const torch::Tensor& image) {
    auto h = layer_responses(image, layer);  // [N, F, H', W']
    auto mine = h.gather(1, pick.expand({h.size(0), 1, h.size(2), h.size(3)}));
    return reference_energy(image) - mine.flatten(1).sum(1);
  };
  auto chain = langevin(energy, to_model(x0), langevin_options(steps));
  return to_data(chain.x).clamp(0, 1);
}

LangevinOptions GenerativeConvNetImpl::langevin_options(int64_t steps) const {
  auto o = LangevinOptions::coupled(options.step_size(), steps);
  if (options.reference() == GcnReference::Uniform) {
    // q's support: the data range [0, 1] on the model scale,
    // [−255 m, 255 (1 − m)]. The sampler clamps to one interval: exact for
    // grey images; for colour ones, the intersection of the channels'.
    const double lo = -255.0 * mean.min().item<double>(), hi = 255.0 * (1.0 - mean.max().item<double>());
    if (!(lo < hi))
      throw Error("model.reference = uniform: the channels' means leave no common range to clamp the chains to");
    o.clamp(true).low(lo).high(hi);
  }
  return o;
}

ChainResult GenerativeConvNetImpl::synthesise(const torch::Tensor& start, int64_t steps) {
  return langevin([this](const torch::Tensor& image) { return model_energy(image); }, start,
                  langevin_options(steps));
}

torch::Tensor GenerativeConvNetImpl::sample_size(int64_t n, int64_t height, int64_t width) {
  TORCH_CHECK(n >= 0, "genconvnet: sample count must be >= 0");
  if (height < 1 || width < 1 || positions(height, width) < 1)
    throw Error("genconvnet: cannot synthesise " + std::to_string(height) + " x " + std::to_string(width) +
                " images: f's convolutions (" + gcn_layers_string(options.layers()) + ") leave nothing of them");
  if (options.top() == GcnTop::Linear && (height != options.height() || width != options.width()))
    throw Error("genconvnet: with model.top = linear f takes " + std::to_string(options.height()) + " x " +
                std::to_string(options.width()) + " images only, not " + std::to_string(height) + " x " +
                std::to_string(width));
  if (n == 0) return torch::zeros({0, options.channels(), height, width}, mean.options());
  torch::Tensor start;  // [n, C, height, width]
  if (synthesis_steps.item<int64_t>() > 0) {
    // The kept synthesised images, cycled to n chains and tiled to the
    // requested size (f is fully convolutional: Langevin mends the seams).
    auto kept = synthesis.index_select(0, torch::arange(n, torch::kLong).remainder(synthesis.size(0)));
    const int64_t rows = (height + options.height() - 1) / options.height();
    const int64_t cols = (width + options.width() - 1) / options.width();
    start = kept.repeat({1, 1, rows, cols}).slice(2, 0, height).slice(3, 0, width).contiguous();
  } else {
    start = torch::zeros({n, options.channels(), height, width}, mean.options());  // the mean image
  }
  return to_data(synthesise(start, options.sample_steps()).x).clamp(0, 1);  // the data range
}

torch::Tensor GenerativeConvNetImpl::sample(int64_t n) { return sample_size(n, options.height(), options.width()); }

ModelInfo genconvnet_model_info() {
  ModelInfo info;
  info.name = "genconvnet";
  info.family = "energy";
  info.description = "Generative ConvNet (Xie et al. 2016): Gaussian noise tilted by a ConvNet, Langevin sampling";
  info.capabilities = {Capability::Sample, Capability::Energy};
  info.accepts.formats = {PixelFormat::Unit};
  info.create = [](ModelContext& ctx) -> ModulePtr {
    Config& c = *ctx.config;
    const GenerativeConvNetOptions d;
    GenerativeConvNetOptions o;
    o.channels(ctx.data.channels).height(ctx.data.height).width(ctx.data.width);
    o.layers(parse_gcn_layers(c.get_string("model.layers", gcn_layers_string(d.layers())), "model.layers"));
    o.unit(c.get_enum("model.unit", d.unit(), gcn_unit_names()));
    o.top(c.get_enum("model.top", d.top(), gcn_top_names()));
    o.reference(c.get_enum("model.reference", d.reference(), gcn_reference_names()));
    const auto keys = read_gcn_sampler_keys(c, {d.sigma(), d.step_size(), d.sample_steps()});
    o.sigma(keys.sigma).step_size(keys.step_size).sample_steps(keys.sample_steps);
    o.init_std(c.get_double("model.init_std", d.init_std()));
    o.grey_units(c.get_int("model.grey_units", d.grey_units()));
    if (o.grey_units() < 0) throw Error("config key 'model.grey_units' must be >= 0 (grey-level units per channel)");
    if (!(o.init_std() > 0) || !std::isfinite(o.init_std())) throw Error("config key 'model.init_std' must be > 0");
    // The synthesis size: the training crop when the objective crops.
    const int64_t crop = c.get_int("objective.crop", 0);
    if (crop > ctx.data.height || crop > ctx.data.width)
      throw Error("objective.crop = " + std::to_string(crop) + " is larger than the training images (" +
                  std::to_string(ctx.data.height) + " x " + std::to_string(ctx.data.width) + ")");
    if (crop > 0) o.height(crop).width(crop);
    o.chains(c.get_int("objective.chains", 1));
    if (o.chains() < 1) throw Error("config key 'objective.chains' must be >= 1");
    o.staged(c.get_int("objective.layer_steps", 0) > 0);
    if (o.staged() && o.top() != GcnTop::Sum)
      throw Error("objective.layer_steps learns f layer by layer, reading each new top layer's sum: it needs "
                  "model.top = sum");
    if (gcn_output_side(o.layers(), o.height()) < 1 || gcn_output_side(o.layers(), o.width()) < 1)
      throw Error("model.layers = '" + gcn_layers_string(o.layers()) + "' does not fit " + std::to_string(o.height()) +
                  " x " + std::to_string(o.width()) + " images" +
                  (crop > 0 ? " (objective.crop)" : " (the data's size)") + ": each layer needs side + 2 padding >= kernel");
    GenerativeConvNet model(o);
    if (ctx.train_data.defined()) model->set_mean(ctx.train_data);
    return model.ptr();
  };
  return info;
}

}  // namespace genzoo
