#include "genzoo/models/explicit/gated_pixelcnn.h"

#include "genzoo/core/error.h"
#include "genzoo/models/explicit/autoregressive.h"
#include "genzoo/models/explicit/pixelcnn.h"
#include "genzoo/models/shapes.h"

namespace genzoo {

namespace {

namespace F = torch::nn::functional;

// The vertical stack's input padded for its (k/2 + 1) x k kernel: k/2 zero
// rows on top, k/2 zero columns on each side, none below (an output row
// reads the rows up to its own).
torch::Tensor pad_vertical(const torch::Tensor& x, int64_t k) {
  return F::pad(x, F::PadFuncOptions({k / 2, k / 2, k / 2, 0}));
}

// The horizontal stack's input padded on the left for its 1 x width kernel.
torch::Tensor pad_horizontal(const torch::Tensor& x, int64_t width) {
  return F::pad(x, F::PadFuncOptions({width, 0, 0, 0}));
}

// Every row moved down one, a zero row on top: row r then holds what row
// r - 1 computed, which saw the rows up to r - 1 only.
torch::Tensor shift_down(const torch::Tensor& x) {
  return F::pad(x, F::PadFuncOptions({0, 0, 1, 0})).slice(2, 0, x.size(2));
}

// The first layer's horizontal kernel covers the k0/2 pixels left of the
// current one (mask A); later layers' the k/2 left of it and itself (mask B).
int64_t horizontal_width(int64_t layer, const GatedPixelCnnOptions& o) {
  return layer == 0 ? o.first_kernel() / 2 : o.kernel() / 2 + 1;
}

int64_t kernel_of(int64_t layer, const GatedPixelCnnOptions& o) { return layer == 0 ? o.first_kernel() : o.kernel(); }

// Class vectors added to a layer's gate inputs: [N, 2h, 1, 1], or undefined.
torch::Tensor class_term(torch::nn::Embedding e, const torch::Tensor& labels) {
  if (!labels.defined()) return {};
  return e(labels).unsqueeze(2).unsqueeze(3);
}

torch::Tensor plus(const torch::Tensor& a, const torch::Tensor& b) { return b.defined() ? a + b : a; }

// The cached sampler. At the start of row r it computes the vertical stack
// on row r - 1 (every pixel of which is final) for every layer; then each
// pixel runs the horizontal stack at that position only. Kept per layer:
// the vertical input, padded as pad_vertical; the vertical pre-activations
// of row r - 1 (what the link reads at row r); the horizontal input of row
// r, padded as pad_horizontal.
template <typename Self>
class GatedCache : public RasterStepper {
 public:
  GatedCache(GatedBase<Self>& m, const torch::Tensor& labels, int64_t n) : m_(m), labels_(labels) {
    const auto& o = m.options;
    height_ = o.shape()[1];
    width_ = o.shape()[2];
    auto opts = m.out1->weight.options();
    const int64_t layers = static_cast<int64_t>(m.layers.size()), h = o.channels();
    for (int64_t i = 0; i < layers; ++i) {
      const int64_t k = kernel_of(i, o), in = i == 0 ? 1 : h;
      vin_.push_back(torch::zeros({n, in, height_ + k / 2, width_ + 2 * (k / 2)}, opts));
      vrow_.push_back(torch::zeros({n, 2 * h, width_}, opts));  // row -1: the zero row shift_down adds
      hin_.push_back(torch::zeros({n, in, 1, width_ + horizontal_width(i, o)}, opts));
      if (labels.defined()) {
        cv_.push_back(m.layers[i].class_v(labels).unsqueeze(2).unsqueeze(3));  // [N, 2h, 1, 1]
        ch_.push_back(m.layers[i].class_h(labels));                           // [N, 2h]
      }
    }
  }

  torch::Tensor logits_at(const torch::Tensor& x, int64_t r, int64_t c) override {
    const auto& o = m_.options;
    const int64_t layers = static_cast<int64_t>(m_.layers.size());
    if (c == 0) {
      if (r > 0) vertical_row(x, r - 1);
      for (auto& t : hin_) t.zero_();  // a new row: the horizontal inputs start empty
    }
    // The horizontal input of layer 0 is the centred row of x: write the
    // pixel left of this one, now final.
    if (c > 0)
      hin_[0].select(3, c - 1 + horizontal_width(0, o)).select(2, 0).copy_(
          centre_pixels(o.head(), x.select(3, c - 1).select(2, r)));  // [N, 1]
    torch::Tensor stream;  // h_{i-1} at (r, c), [N, h]
    for (int64_t i = 0; i < layers; ++i) {
      const auto& layer = m_.layers[i];
      const int64_t wdt = horizontal_width(i, o);
      if (i > 0) hin_[i].select(3, c + wdt - 1).select(2, 0).copy_(stream);  // mask B reads the current pixel
      // The horizontal kernel over columns c - wdt + 1 .. c of the padded row
      // (layer 0: the wdt pixels left of c).
      auto patch = hin_[i].slice(3, c, c + wdt).reshape({hin_[i].size(0), -1});                       // [N, in * wdt]
      auto w = layer.horizontal->weight.reshape({layer.horizontal->weight.size(0), -1});               // [2h, in * wdt]
      auto pre = torch::addmm(layer.horizontal->bias, patch, w.t());                                  // [N, 2h]
      pre = pre + pointwise(layer.link, vrow_[i].select(2, c));                                        // shift: row r - 1
      if (!ch_.empty()) pre = pre + ch_[i];
      auto gated = gated_unit(pre);                                                                    // [N, h]
      stream = i == 0 ? pointwise(layer.residual, gated) : stream + pointwise(layer.residual, gated);
    }
    auto out = pointwise(m_.out2, torch::relu(pointwise(m_.out1, torch::relu(stream))));  // [N, K]
    return out.size(1) == 1 ? out.squeeze(1) : out;
  }

 private:
  // The vertical stack on row `row` for every layer: its pre-activations
  // (for the link of row row + 1) and gated outputs (the next layer's input).
  void vertical_row(const torch::Tensor& x, int64_t row) {
    const auto& o = m_.options;
    const int64_t k0 = kernel_of(0, o);
    vin_[0].select(2, row + k0 / 2).slice(2, k0 / 2, k0 / 2 + width_).copy_(
        centre_pixels(o.head(), x.select(2, row)));  // [N, 1, W]
    const int64_t layers = static_cast<int64_t>(m_.layers.size());
    for (int64_t i = 0; i < layers; ++i) {
      const int64_t k = kernel_of(i, o);
      auto slab = vin_[i].slice(2, row, row + k / 2 + 1);                         // [N, in, k/2 + 1, W + 2 (k/2)]
      auto pre = m_.layers[i].vertical(slab);                                       // [N, 2h, 1, W]
      vrow_[i].copy_(pre.squeeze(2));
      if (i + 1 < layers) {
        const int64_t kn = kernel_of(i + 1, o);
        auto gated = gated_unit(plus(pre, cv_.empty() ? torch::Tensor() : cv_[i]));  // [N, h, 1, W]
        vin_[i + 1].select(2, row + kn / 2).slice(2, kn / 2, kn / 2 + width_).copy_(gated.squeeze(2));
      }
    }
  }

  GatedBase<Self>& m_;
  torch::Tensor labels_;
  int64_t height_ = 0, width_ = 0;
  std::vector<torch::Tensor> vin_, vrow_, hin_, cv_, ch_;
};

}  // namespace

torch::Tensor gated_unit(const torch::Tensor& a) {
  const int64_t h = a.size(1) / 2;
  return torch::tanh(a.slice(1, 0, h)) * torch::sigmoid(a.slice(1, h));
}

template <typename Self>
GatedBase<Self>::GatedBase(GatedPixelCnnOptions options_) : options(std::move(options_)) {
  reset();
}

template <typename Self>
void GatedBase<Self>::reset() {
  const auto& o = options;
  TORCH_CHECK(o.shape().size() == 3 && o.shape()[0] == 1, "gated-pixelcnn: shape must be {1, H, W}");
  TORCH_CHECK(o.channels() >= 1 && o.layers() >= 1 && o.output_channels() >= 1 && o.classes() >= 0,
              "gated-pixelcnn: channels, layers and output_channels must be >= 1");
  TORCH_CHECK(o.first_kernel() >= 3 && o.first_kernel() % 2 == 1 && o.kernel() >= 3 && o.kernel() % 2 == 1,
              "gated-pixelcnn: kernels must be odd and >= 3");
  const int64_t h = o.channels();
  layers.clear();
  for (int64_t i = 0; i < o.layers(); ++i) {
    const int64_t k = kernel_of(i, o), in = i == 0 ? 1 : h;
    const std::string n = "layer" + std::to_string(i);
    Layer l;
    l.vertical = this->register_module(n + "_vertical",
                                       torch::nn::Conv2d(torch::nn::Conv2dOptions(in, 2 * h, {k / 2 + 1, k})));
    l.horizontal = this->register_module(
        n + "_horizontal", torch::nn::Conv2d(torch::nn::Conv2dOptions(in, 2 * h, {1, horizontal_width(i, o)})));
    l.link = this->register_module(n + "_link", torch::nn::Conv2d(torch::nn::Conv2dOptions(2 * h, 2 * h, 1)));
    l.residual = this->register_module(n + "_residual", torch::nn::Conv2d(torch::nn::Conv2dOptions(h, h, 1)));
    if (o.classes() > 0) {
      l.class_v = this->register_module(n + "_class_v", torch::nn::Embedding(o.classes(), 2 * h));
      l.class_h = this->register_module(n + "_class_h", torch::nn::Embedding(o.classes(), 2 * h));
      torch::NoGradGuard no_grad;
      l.class_v->weight.normal_(0, 0.01);
      l.class_h->weight.normal_(0, 0.01);
    }
    layers.push_back(l);
  }
  out1 = this->register_module("out1", torch::nn::Conv2d(torch::nn::Conv2dOptions(h, o.output_channels(), 1)));
  out2 = this->register_module("out2",
                               torch::nn::Conv2d(torch::nn::Conv2dOptions(o.output_channels(), head_outputs(o.head()), 1)));
  log_prior = o.classes() > 0 ? this->register_buffer(
                                    "log_prior", torch::full({o.classes()}, -std::log(static_cast<double>(o.classes())),
                                                             torch::kFloat64))
                              : torch::Tensor();
}

template <typename Self>
torch::Tensor GatedBase<Self>::logits(const torch::Tensor& x, const torch::Tensor& labels) {
  TORCH_CHECK(x.dim() == 4 && x.size(1) == 1 && x.size(2) == options.shape()[1] && x.size(3) == options.shape()[2],
              "gated-pixelcnn: expected images [N, 1, ", options.shape()[1], ", ", options.shape()[2], "], got ",
              x.sizes());
  if (options.classes() > 0) {
    TORCH_CHECK(labels.defined() && labels.dim() == 1 && labels.size(0) == x.size(0),
                "gated-pixelcnn: a conditional model needs one label per image");
    TORCH_CHECK(labels.numel() == 0 || (labels.min().item<int64_t>() >= 0 &&
                                        labels.max().item<int64_t>() < options.classes()),
                "gated-pixelcnn: labels must be in 0..", options.classes() - 1);
  }
  auto y = options.classes() > 0 ? labels.to(torch::kLong) : torch::Tensor();
  auto input = centre_pixels(options.head(), x.to(out1->weight.dtype()));  // [N, 1, H, W]
  torch::Tensor v = input, stream;
  const int64_t w = x.size(3);
  for (size_t i = 0; i < layers.size(); ++i) {
    auto& l = layers[i];
    const int64_t k = kernel_of(static_cast<int64_t>(i), options), wdt = horizontal_width(static_cast<int64_t>(i), options);
    auto v_pre = l.vertical(pad_vertical(v, k));  // [N, 2h, H, W]: rows up to each output row
    // Layer 0 reads x, later layers the stream; the first layer's window
    // ends left of the pixel (its output column c reads c - wdt .. c - 1).
    auto h_in = i == 0 ? input : stream;
    auto h_pre = i == 0 ? l.horizontal(pad_horizontal(h_in, wdt)).slice(3, 0, w)
                        : l.horizontal(pad_horizontal(h_in, wdt - 1));  // [N, 2h, H, W]
    h_pre = plus(h_pre + l.link(shift_down(v_pre)), class_term(l.class_h, y));
    auto gated = gated_unit(h_pre);
    stream = i == 0 ? l.residual(gated) : stream + l.residual(gated);
    v = gated_unit(plus(v_pre, class_term(l.class_v, y)));
  }
  return out2(torch::relu(out1(torch::relu(stream))));  // [N, K, H, W]
}

template <typename Self>
torch::Tensor GatedBase<Self>::log_prob_labelled(const torch::Tensor& x, const torch::Tensor& labels) {
  return head_log_prob(options.head(), logits_per_pixel(logits(x, labels)), flatten_pixels(x, dims(), "gated-pixelcnn"));
}

template <typename Self>
torch::Tensor GatedBase<Self>::log_prob(const torch::Tensor& x) {
  if (options.classes() == 0) return log_prob_labelled(x, {});
  // log sum_y p(y) p(x | y), one pass per class.
  std::vector<torch::Tensor> per_class;
  for (int64_t y = 0; y < options.classes(); ++y) {
    auto labels = torch::full({x.size(0)}, y, torch::kLong);
    per_class.push_back(log_prob_labelled(x, labels) + log_prior[y].to(out1->weight.dtype()));
  }
  return torch::logsumexp(torch::stack(per_class, 1), 1);  // [N]
}

template <typename Self>
torch::Tensor GatedBase<Self>::conditionals(const torch::Tensor& x, int64_t ordering) {
  check_one_ordering(ordering, "gated-pixelcnn");
  // A conditional model's conditionals for class 0 (every class has the same order).
  auto labels = options.classes() > 0 ? torch::zeros({x.size(0)}, torch::kLong) : torch::Tensor();
  return logits_per_pixel(logits(x, labels));
}

template <typename Self>
torch::Tensor GatedBase<Self>::generation_rank(int64_t ordering) const {
  return raster_rank(dims(), ordering, "gated-pixelcnn");
}

template <typename Self>
torch::Tensor GatedBase<Self>::draw_labels(int64_t n) const {
  if (options.classes() == 0) return {};
  if (n == 0) return torch::empty({0}, torch::kLong);
  return torch::multinomial(log_prior.exp(), n, /*replacement=*/true).to(torch::kLong);
}

template <typename Self>
void GatedBase<Self>::set_class_prior(const torch::Tensor& labels) {
  TORCH_CHECK(options.classes() > 0, "gated-pixelcnn: an unconditional model has no class prior");
  torch::NoGradGuard no_grad;
  log_prior.copy_(smoothed_log_class_frequencies(labels, options.classes(), torch::kFloat64, "gated-pixelcnn"));
}

template <typename Self>
torch::Tensor GatedBase<Self>::generate_given(const torch::Tensor& x, const torch::Tensor& observed,
                                              const torch::Tensor& uniforms, const torch::Tensor& labels,
                                              SampleMethod method) {
  auto y = options.classes() > 0 ? labels.to(torch::kLong) : torch::Tensor();
  return generate_pixels(
      x, observed, uniforms, method, options.head(), out1->weight.scalar_type(),
      [this, &y](const torch::Tensor& v) { return logits(v, y); },
      [this, &y](int64_t n) { return std::make_unique<GatedCache<Self>>(*this, y, n); }, "gated-pixelcnn");
}

template <typename Self>
torch::Tensor GatedBase<Self>::generate(const torch::Tensor& x, const torch::Tensor& observed,
                                        const torch::Tensor& uniforms, SampleMethod method) {
  return generate_given(x, observed, uniforms, draw_labels(x.size(0)), method);
}

template <typename Self>
torch::Tensor GatedBase<Self>::sample_by(int64_t n, SampleMethod method) {
  return sample_pixels(*this, n, options.shape()[1], options.shape()[2], out1->weight.options(), method);
}

template <typename Self>
torch::Tensor GatedBase<Self>::complete(const torch::Tensor& x, const torch::Tensor& observed) {
  return complete_pixels(*this, x, observed);
}

template <typename Self>
bool GatedBase<Self>::completion_is_exact(const torch::Tensor& observed) const {
  if (options.classes() > 0) return false;  // the class is drawn from the prior, not from p(y | x_obs)
  return raster_completion_is_exact(observed, dims(), "gated-pixelcnn");
}

torch::Tensor ConditionalGatedPixelCnnImpl::sample_given(const torch::Tensor& labels) {
  const int64_t n = labels.size(0), h = options.shape()[1], w = options.shape()[2];
  return generate_given(torch::zeros({n, 1, h, w}, out1->weight.options()), torch::zeros({1, 1, h, w}, torch::kBool),
                        torch::rand({n, h * w}, torch::kFloat64), labels, SampleMethod::Cached);
}

template struct GatedBase<GatedPixelCnnImpl>;
template struct GatedBase<ConditionalGatedPixelCnnImpl>;

ModelInfo gated_pixelcnn_model_info() {
  ModelInfo info = pixel_model_info(
      "gated-pixelcnn",
      "Gated PixelCNN: vertical and horizontal stacks, no blind spot (model.conditional = true: p(x | y), one row per "
      "class)",
      {Capability::Sample, Capability::Density, Capability::Complete, Capability::Autoregressive});
  info.create = [](ModelContext& ctx) -> ModulePtr {
    Config& c = *ctx.config;
    const GatedPixelCnnOptions d;
    const auto k = read_pixel_net_keys(c, "model.layers",
                                       {d.channels(), d.layers(), d.first_kernel(), d.kernel(), d.output_channels()},
                                       1, 3);
    GatedPixelCnnOptions o;
    o.shape({ctx.data.channels, ctx.data.height, ctx.data.width}).head(pixel_head_for(ctx.data.format, "gated-pixelcnn"));
    o.channels(k.channels).layers(k.depth).first_kernel(k.first_kernel).kernel(k.kernel).output_channels(k.output_channels);
    if (!c.get_bool("model.conditional", false)) return GatedPixelCnn(o).ptr();
    if (ctx.data.classes < 1)
      throw Error("model.conditional = true models p(x | y): the data need class labels (fashion-mnist, mnist-10k, "
                  "or idx:IMAGES,LABELS)");
    o.classes(ctx.data.classes);
    ConditionalGatedPixelCnn model(o);
    if (ctx.train_labels.defined()) model->set_class_prior(ctx.train_labels);
    return model.ptr();
  };
  return info;
}

}  // namespace genzoo
