#include "genzoo/models/explicit/pixel_model.h"

#include <cmath>

#include "genzoo/core/error.h"
#include "genzoo/models/bernoulli.h"
#include "genzoo/models/explicit/autoregressive.h"
#include "genzoo/models/shapes.h"

namespace genzoo {

const EnumNames<PixelHead>& pixel_head_names() {
  static const EnumNames<PixelHead> names{{PixelHead::Bernoulli, "bernoulli"}, {PixelHead::Softmax256, "softmax256"}};
  return names;
}

PixelHead pixel_head_for(PixelFormat format, const std::string& who) {
  if (format == PixelFormat::Binary) return PixelHead::Bernoulli;
  if (format == PixelFormat::Levels256) return PixelHead::Softmax256;
  throw Error(who + " models binary pixels (--binarize) or 256 grey levels (--set data.levels=256)");
}

int64_t head_outputs(PixelHead head) { return head == PixelHead::Bernoulli ? 1 : 256; }

torch::Tensor centre_pixels(PixelHead head, const torch::Tensor& x) {
  return head == PixelHead::Bernoulli ? 2 * x - 1 : x / 127.5 - 1;
}

torch::Tensor head_log_prob(PixelHead head, const torch::Tensor& logits, const torch::Tensor& x) {
  if (head == PixelHead::Bernoulli) return bernoulli_log_prob(logits, x);
  auto levels = x.to(torch::kLong).unsqueeze(-1);                                  // [N, D, 1]
  return torch::log_softmax(logits, -1).gather(-1, levels).squeeze(-1).sum(1);  // [N]
}

torch::Tensor head_draw(PixelHead head, const torch::Tensor& logits, const torch::Tensor& u) {
  auto uu = u.to(logits.dtype());
  if (head == PixelHead::Bernoulli) return (uu < torch::sigmoid(logits)).to(logits.dtype());  // [N]
  auto cdf = torch::softmax(logits, -1).cumsum(-1);                                       // [N, 256]
  // The first level whose cumulative probability exceeds u; rounding may
  // leave cdf[255] a hair below u, hence the clamp.
  return (cdf <= uu.unsqueeze(1)).sum(1).clamp_max(255).to(logits.dtype());  // [N]
}

torch::Tensor logits_per_pixel(const torch::Tensor& logits) {
  const int64_t n = logits.size(0), k = logits.size(1), d = logits.size(2) * logits.size(3);
  if (k == 1) return logits.reshape({n, d});                   // [N, D]
  return logits.permute({0, 2, 3, 1}).reshape({n, d, k});      // [N, D, K]
}

torch::Tensor raster_mask(int64_t kh, int64_t kw, MaskType type) {
  TORCH_CHECK(kh >= 1 && kw >= 1 && kh % 2 == 1 && kw % 2 == 1, "masked convolution: kernel sizes must be odd, got ",
              kh, " x ", kw);
  auto m = torch::zeros({kh, kw});
  m.slice(0, 0, kh / 2).fill_(1);                     // every row above the centre
  m[kh / 2].slice(0, 0, kw / 2).fill_(1);             // left of the centre
  if (type == MaskType::B) m[kh / 2][kw / 2].fill_(1);  // the centre itself
  return m;
}

MaskedConv2dImpl::MaskedConv2dImpl(MaskedConv2dOptions options_) : options(std::move(options_)) { reset(); }

void MaskedConv2dImpl::reset() {
  TORCH_CHECK(options.in() >= 1 && options.out() >= 1, "masked convolution: channels must be >= 1");
  const int64_t kh = options.kernel_height(), kw = options.kernel_width();
  auto m = raster_mask(kh, kw, options.type());
  // LibTorch's Conv2d initialisation (Kaiming uniform, a = sqrt 5), with the
  // fan-in of the whole kernel.
  const double bound = 1.0 / std::sqrt(static_cast<double>(options.in() * kh * kw));
  weight = register_parameter("weight", torch::empty({options.out(), options.in(), kh, kw}).uniform_(-bound, bound));
  bias = register_parameter("bias", torch::empty({options.out()}).uniform_(-bound, bound));
  mask = register_buffer("mask", m.view({1, 1, kh, kw}));
}

torch::Tensor MaskedConv2dImpl::forward(const torch::Tensor& x) {
  return torch::conv2d(x, weight * mask, bias, /*stride=*/1, /*padding=*/{padding_rows(), padding_cols()});
}

torch::Tensor MaskedConv2dImpl::forward_at(const torch::Tensor& padded, int64_t r, int64_t c) {
  const int64_t rows = padding_rows() + 1, kw = options.kernel_width();
  // The kernel's rows down to the centre (the rest is masked out) over the
  // window whose centre is (r, c): padded rows r .. r + rows - 1, columns
  // c .. c + kw - 1.
  auto w = (weight * mask).slice(2, 0, rows).reshape({options.out(), -1});        // [out, in * rows * kw]
  auto patch = padded.slice(2, r, r + rows).slice(3, c, c + kw).reshape({padded.size(0), -1});  // [N, in * rows * kw]
  return torch::addmm(bias, patch, w.t());                                         // [N, out]
}

const EnumNames<SampleMethod>& sample_method_names() {
  static const EnumNames<SampleMethod> names{{SampleMethod::Raster, "raster"}, {SampleMethod::Cached, "cached"}};
  return names;
}

torch::Tensor FullRecompute::logits_at(const torch::Tensor& x, int64_t r, int64_t c) {
  auto l = logits_of_(x);  // [N, K, H, W]
  auto at = l.select(3, c).select(2, r);  // [N, K]
  return at.size(1) == 1 ? at.squeeze(1) : at;
}

torch::Tensor raster_generate(RasterStepper& stepper, const torch::Tensor& x, const torch::Tensor& observed,
                              const torch::Tensor& uniforms, PixelHead head) {
  TORCH_CHECK(x.dim() == 4 && x.size(1) == 1, "raster generation: images [N, 1, H, W], got ", x.sizes());
  const int64_t n = x.size(0), h = x.size(2), w = x.size(3);
  TORCH_CHECK(observed.sizes() == torch::IntArrayRef({n, h * w}) && observed.scalar_type() == torch::kBool,
              "raster generation: observed must be bool [N, D]");
  TORCH_CHECK(uniforms.sizes() == torch::IntArrayRef({n, h * w}), "raster generation: uniforms must be [N, D]");
  auto out = x.clone();
  for (int64_t r = 0; r < h; ++r)
    for (int64_t c = 0; c < w; ++c) {
      const int64_t d = r * w + c;
      auto drawn = head_draw(head, stepper.logits_at(out, r, c), uniforms.select(1, d));  // [N]
      auto pixel = out.select(1, 0).select(1, r).select(1, c);                             // [N], a view
      pixel.copy_(torch::where(observed.select(1, d), pixel, drawn));
    }
  return out;
}

torch::Tensor generate_pixels(const torch::Tensor& x, const torch::Tensor& observed, const torch::Tensor& uniforms,
                              SampleMethod method, PixelHead head, torch::ScalarType dtype,
                              const std::function<torch::Tensor(const torch::Tensor&)>& logits_of,
                              const std::function<std::unique_ptr<RasterStepper>(int64_t)>& make_cache,
                              const char* who) {
  torch::NoGradGuard no_grad;
  TORCH_CHECK(x.dim() == 4, who, ": expected images [N, 1, H, W], got ", x.sizes());
  auto start = x.to(dtype);
  auto keep = flatten_observed(observed, x.size(0), x.size(2) * x.size(3), who);  // [N, D]
  if (method == SampleMethod::Raster) {
    FullRecompute full(logits_of);
    return raster_generate(full, start, keep, uniforms, head);
  }
  auto cache = make_cache(x.size(0));
  return raster_generate(*cache, start, keep, uniforms, head);
}

torch::Tensor sample_pixels(MethodSampler& sampler, int64_t n, int64_t height, int64_t width,
                            const torch::TensorOptions& options, SampleMethod method) {
  TORCH_CHECK(n >= 0, "sample count must be >= 0");
  return sampler.generate(torch::zeros({n, 1, height, width}, options),
                          torch::zeros({1, 1, height, width}, torch::kBool),
                          torch::rand({n, height * width}, torch::kFloat64), method);
}

torch::Tensor complete_pixels(MethodSampler& sampler, const torch::Tensor& x, const torch::Tensor& observed) {
  return sampler.generate(x, observed, torch::rand({x.size(0), x.size(2) * x.size(3)}, torch::kFloat64),
                          SampleMethod::Cached);
}

PixelNetKeys read_pixel_net_keys(Config& c, const std::string& depth_key, const PixelNetKeys& d, int64_t min_depth,
                                 int64_t min_kernel) {
  PixelNetKeys k;
  k.channels = c.get_int("model.channels", d.channels);
  k.depth = c.get_int(depth_key, d.depth);
  k.first_kernel = c.get_int("model.first_kernel", d.first_kernel);
  k.kernel = c.get_int("model.kernel", d.kernel);
  k.output_channels = c.get_int("model.output_channels", d.output_channels);
  if (k.channels < 1) throw Error("config key 'model.channels' must be >= 1");
  if (k.depth < min_depth)
    throw Error("config key '" + depth_key + "' must be >= " + std::to_string(min_depth));
  if (k.output_channels < 1) throw Error("config key 'model.output_channels' must be >= 1");
  if (k.first_kernel < 3 || k.first_kernel % 2 == 0)
    throw Error("config key 'model.first_kernel' must be an odd size >= 3 (a 1 x 1 mask-A kernel sees no pixel), got " +
                std::to_string(k.first_kernel));
  if (k.kernel < min_kernel || k.kernel % 2 == 0)
    throw Error("config key 'model.kernel' must be an odd size >= " + std::to_string(min_kernel) + ", got " +
                std::to_string(k.kernel));
  return k;
}

ModelInfo pixel_model_info(const std::string& name, const std::string& description, Capabilities capabilities) {
  // The binary density models' entry, widened to 8-bit levels and one channel.
  ModelInfo info = binary_density_info(name, description, std::move(capabilities));
  info.accepts.formats = {PixelFormat::Binary, PixelFormat::Levels256};
  info.accepts.channels = {1};
  return info;
}

}  // namespace genzoo
