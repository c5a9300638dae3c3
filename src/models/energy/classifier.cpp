#include "genzoo/models/energy/classifier.h"

#include <cmath>

#include "genzoo/core/error.h"

namespace genzoo {

ConvClassifierImpl::ConvClassifierImpl(ConvClassifierOptions options_) : options(std::move(options_)) { reset(); }

void ConvClassifierImpl::reset() {
  TORCH_CHECK(options.channels() >= 1 && options.height() >= 1 && options.width() >= 1,
              "classifier: channels, height and width must be >= 1");
  TORCH_CHECK(options.classes() >= 2, "classifier: needs at least 2 classes");
  TORCH_CHECK(!options.layers().empty(), "classifier: needs at least one convolution");
  TORCH_CHECK(options.sigma() > 0 && options.step_size() > 0 && options.sample_steps() >= 0 && options.chains() >= 1,
              "classifier: sigma and step_size must be > 0, sample_steps >= 0, chains >= 1");
  const int64_t side_h = gcn_output_side(options.layers(), options.height());
  const int64_t side_w = gcn_output_side(options.layers(), options.width());
  TORCH_CHECK(side_h >= 1 && side_w >= 1, "classifier: the convolutions ", gcn_layers_string(options.layers()),
              " do not fit a ", options.height(), " x ", options.width(), " image");
  convs = register_module("convs", torch::nn::ModuleList());
  int64_t in = options.channels();
  for (const auto& l : options.layers()) {
    convs->push_back(torch::nn::Conv2d(torch::nn::Conv2dOptions(in, l.filters, l.kernel).stride(l.stride).padding(l.padding)));
    in = l.filters;
  }
  int64_t width = in * side_h * side_w;
  if (options.hidden() > 0) {
    fc = register_module("fc", torch::nn::Linear(width, options.hidden()));
    width = options.hidden();
  } else {
    fc = nullptr;
  }
  out = register_module("out", torch::nn::Linear(width, options.classes()));
  mean = register_buffer("mean", torch::full({options.channels()}, 0.5));
  synthesis = register_buffer(
      "synthesis", torch::zeros({options.chains(), options.channels(), options.height(), options.width()}));
  synthesis_labels = register_buffer("synthesis_labels",
                                     torch::arange(options.chains(), torch::kLong).remainder(options.classes()));
}

void ConvClassifierImpl::set_mean(const torch::Tensor& train) { gcn_set_mean(mean, train, "classifier"); }

torch::Tensor ConvClassifierImpl::to_model(const torch::Tensor& x) const { return gcn_to_model(x, mean); }

torch::Tensor ConvClassifierImpl::to_data(const torch::Tensor& image) const { return gcn_to_data(image, mean); }

torch::Tensor ConvClassifierImpl::layer_responses(const torch::Tensor& image, int64_t layer) {
  TORCH_CHECK(image.dim() == 4 && image.size(1) == options.channels() && image.size(2) == options.height() &&
                  image.size(3) == options.width(),
              "classifier: expected images [N, ", options.channels(), ", ", options.height(), ", ", options.width(),
              "], got ", image.sizes());
  torch::Tensor h = image / 255.0;
  int64_t l = 0;
  for (const auto& m : *convs) {
    h = torch::relu(m->as<torch::nn::Conv2d>()->forward(h));
    if (l++ == layer) return h;
  }
  h = h.flatten(1);
  if (fc) {
    h = torch::relu(fc->forward(h));
    if (l++ == layer) return h;
  }
  return out->forward(h);  // the class scores, without a unit
}

torch::Tensor ConvClassifierImpl::scores(const torch::Tensor& image) { return layer_responses(image, -1); }

torch::Tensor ConvClassifierImpl::class_score(const torch::Tensor& image, const torch::Tensor& labels) {
  TORCH_CHECK(labels.dim() == 1 && labels.size(0) == image.size(0), "classifier: one label per image");
  return scores(image).gather(1, labels.to(torch::kLong).view({-1, 1})).squeeze(1);
}

torch::Tensor ConvClassifierImpl::class_energy(const torch::Tensor& image, const torch::Tensor& labels) {
  const double s2 = options.sigma() * options.sigma();
  return image.pow(2).flatten(1).sum(1) / (2 * s2) - class_score(image, labels);
}

LangevinOptions ConvClassifierImpl::langevin_options(int64_t steps) const {
  return LangevinOptions::coupled(options.step_size(), steps);
}

ChainResult ConvClassifierImpl::synthesise(const torch::Tensor& start, const torch::Tensor& labels, int64_t steps) {
  return langevin([&](const torch::Tensor& image) { return class_energy(image, labels); }, start,
                  langevin_options(steps));
}

torch::Tensor ConvClassifierImpl::sample_given(const torch::Tensor& labels) {
  TORCH_CHECK(labels.dim() == 1, "classifier: labels must be [n]");
  if ((labels < 0).any().item<bool>() || (labels >= options.classes()).any().item<bool>())
    throw Error("classifier: labels must be in 0.." + std::to_string(options.classes() - 1));
  auto start = torch::zeros({labels.size(0), options.channels(), options.height(), options.width()}, mean.options());
  if (labels.size(0) == 0) return start;
  return to_data(synthesise(start, labels, options.sample_steps()).x).clamp(0, 1);
}

torch::Tensor ConvClassifierImpl::sample(int64_t n) {
  TORCH_CHECK(n >= 0, "classifier: sample count must be >= 0");
  return sample_given(torch::randint(0, options.classes(), {n}, torch::kLong));
}

torch::Tensor ConvClassifierImpl::energy(const torch::Tensor& x) {
  auto image = to_model(x);
  const double s2 = options.sigma() * options.sigma();
  return image.pow(2).flatten(1).sum(1) / (2 * s2) - torch::logsumexp(scores(image), 1);
}

std::vector<int64_t> ConvClassifierImpl::unit_layers() const {
  std::vector<int64_t> sizes;
  for (const auto& l : options.layers()) sizes.push_back(l.filters);
  if (options.hidden() > 0) sizes.push_back(options.hidden());
  sizes.push_back(options.classes());
  return sizes;
}

torch::Tensor ConvClassifierImpl::maximise_units(const torch::Tensor& x0, int64_t layer, const torch::Tensor& units,
                                                 int64_t steps) {
  const auto sizes = unit_layers();
  if (layer < 0 || layer >= static_cast<int64_t>(sizes.size()))
    throw Error("classifier has layers 1.." + std::to_string(sizes.size()) + ", not " + std::to_string(layer + 1));
  TORCH_CHECK(units.dim() == 1 && units.size(0) == x0.size(0), "classifier: one unit per chain");
  const double s2 = options.sigma() * options.sigma();
  auto energy = [&](const torch::Tensor& image) {
    auto h = layer_responses(image, layer);  // [N, F, H', W'], or [N, F] for fc and the scores
    h = h.dim() == 2 ? h.unsqueeze(2) : h.flatten(2);                  // [N, F, positions]
    auto mine = h.gather(1, units.to(torch::kLong).view({-1, 1, 1}).expand({h.size(0), 1, h.size(2)}));
    return image.pow(2).flatten(1).sum(1) / (2 * s2) - mine.flatten(1).sum(1);
  };
  auto chain = langevin(energy, to_model(x0), langevin_options(steps));
  return to_data(chain.x).clamp(0, 1);
}

ModelInfo classifier_model_info() {
  ModelInfo info;
  info.name = "classifier";
  info.family = "energy";
  info.description =
      "softmax ReLU ConvNet; its class scores tilt Gaussian noise into p(x | c) (Xie et al. 2016), Langevin sampling";
  info.capabilities = {Capability::Sample, Capability::Energy, Capability::Conditional};
  info.accepts.formats = {PixelFormat::Unit};
  info.accepts.labels = true;
  info.create = [](ModelContext& ctx) -> ModulePtr {
    Config& c = *ctx.config;
    if (ctx.data.classes < 2)
      throw Error("the classifier needs labelled data with at least 2 classes (fashion-mnist, mnist-10k, idx:IMAGES,LABELS)");
    const ConvClassifierOptions d;
    ConvClassifierOptions o;
    o.channels(ctx.data.channels).height(ctx.data.height).width(ctx.data.width).classes(ctx.data.classes);
    o.layers(parse_gcn_layers(c.get_string("model.layers", gcn_layers_string(d.layers())), "model.layers"));
    o.hidden(c.get_int("model.hidden", d.hidden()));
    if (o.hidden() < 0) throw Error("config key 'model.hidden' must be >= 0 (0: no hidden layer)");
    const auto keys = read_gcn_sampler_keys(c, {d.sigma(), d.step_size(), d.sample_steps()});
    o.sigma(keys.sigma).step_size(keys.step_size).sample_steps(keys.sample_steps);
    o.chains(c.get_int("objective.chains", d.chains()));
    if (o.chains() < 1) throw Error("config key 'objective.chains' must be >= 1");
    if (gcn_output_side(o.layers(), o.height()) < 1 || gcn_output_side(o.layers(), o.width()) < 1)
      throw Error("model.layers = '" + gcn_layers_string(o.layers()) + "' does not fit " + std::to_string(o.height()) +
                  " x " + std::to_string(o.width()) + " images: each layer needs side + 2 padding >= kernel");
    ConvClassifier model(o);
    if (ctx.train_data.defined()) model->set_mean(ctx.train_data);
    return model.ptr();
  };
  return info;
}

}  // namespace genzoo
