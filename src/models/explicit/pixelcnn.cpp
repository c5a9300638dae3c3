#include "genzoo/models/explicit/pixelcnn.h"

#include "genzoo/core/error.h"
#include "genzoo/models/explicit/autoregressive.h"
#include "genzoo/models/shapes.h"

namespace genzoo {

namespace {

torch::nn::Conv2d one_by_one(int64_t in, int64_t out) { return torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, 1)); }

// The cached sampler: each layer computed at the new position only. The
// masked layers keep their inputs in zero-padded maps (the padding reads as
// the middle value, as in the full network); a position's value is written
// once it is final: the centred pixels once drawn, a block's input when
// computed (mask B reads the centre).
class PixelCnnCache : public RasterStepper {
 public:
  PixelCnnCache(PixelCnnImpl& m, int64_t n) : m_(m) {
    const int64_t h = m.options.shape()[1], w = m.options.shape()[2];
    width_ = w;
    auto opts = m.first->weight.options();
    input_ = torch::zeros({n, 1, h + m.first->padding_rows(), w + 2 * m.first->padding_cols()}, opts);
    for (auto& b : m.blocks)
      mids_.push_back(torch::zeros({n, m.options.channels(), h + b.mid->padding_rows(), w + 2 * b.mid->padding_cols()},
                                   opts));
  }

  torch::Tensor logits_at(const torch::Tensor& x, int64_t r, int64_t c) override {
    const int64_t d = r * width_ + c;
    for (; written_ < d; ++written_) {  // the pixels drawn since the last call
      const int64_t pr = written_ / width_, pc = written_ % width_;
      input_.select(3, pc + m_.first->padding_cols())
          .select(2, pr + m_.first->padding_rows())
          .copy_(centre_pixels(m_.options.head(), x.select(3, pc).select(2, pr)));
    }
    auto s = m_.first->forward_at(input_, r, c);  // [N, 2h]
    for (size_t b = 0; b < m_.blocks.size(); ++b) {
      auto& block = m_.blocks[b];
      auto t = torch::relu(pointwise(block.down, torch::relu(s)));  // [N, h]
      mids_[b].select(3, c + block.mid->padding_cols()).select(2, r + block.mid->padding_rows()).copy_(t);
      auto u = torch::relu(block.mid->forward_at(mids_[b], r, c));
      s = s + pointwise(block.up, u);
    }
    auto out = pointwise(m_.out2, torch::relu(pointwise(m_.out1, torch::relu(s))));  // [N, K]
    return out.size(1) == 1 ? out.squeeze(1) : out;
  }

 private:
  PixelCnnImpl& m_;
  int64_t width_ = 0, written_ = 0;
  torch::Tensor input_;
  std::vector<torch::Tensor> mids_;
};

}  // namespace

torch::Tensor pointwise(const torch::nn::Conv2d& conv, const torch::Tensor& v) {
  return torch::addmm(conv->bias, v, conv->weight.view({conv->weight.size(0), conv->weight.size(1)}).t());
}

PixelCnnImpl::PixelCnnImpl(PixelCnnOptions options_) : options(std::move(options_)) { reset(); }

void PixelCnnImpl::reset() {
  TORCH_CHECK(options.shape().size() == 3 && options.shape()[0] == 1, "pixelcnn: shape must be {1, H, W}");
  TORCH_CHECK(options.channels() >= 1 && options.blocks() >= 0 && options.output_channels() >= 1,
              "pixelcnn: channels and output_channels must be >= 1, blocks >= 0");
  const int64_t h = options.channels();
  first = register_module("first", MaskedConv2d(MaskedConv2dOptions(1, 2 * h, options.first_kernel(),
                                                                    options.first_kernel(), MaskType::A)));
  blocks.clear();
  for (int64_t b = 0; b < options.blocks(); ++b) {
    Block block;
    const std::string k = "block" + std::to_string(b);
    block.down = register_module(k + "_down", one_by_one(2 * h, h));
    block.mid = register_module(k + "_mid", MaskedConv2d(MaskedConv2dOptions(h, h, options.kernel(), options.kernel(),
                                                                             MaskType::B)));
    block.up = register_module(k + "_up", one_by_one(h, 2 * h));
    blocks.push_back(block);
  }
  out1 = register_module("out1", one_by_one(2 * h, options.output_channels()));
  out2 = register_module("out2", one_by_one(options.output_channels(), head_outputs(options.head())));
}

torch::Tensor PixelCnnImpl::logits(const torch::Tensor& x) {
  TORCH_CHECK(x.dim() == 4 && x.size(1) == 1 && x.size(2) == options.shape()[1] && x.size(3) == options.shape()[2],
              "pixelcnn: expected images [N, 1, ", options.shape()[1], ", ", options.shape()[2], "], got ", x.sizes());
  auto s = first->forward(centre_pixels(options.head(), x.to(first->weight.dtype())));  // [N, 2h, H, W]
  for (auto& b : blocks) s = s + b.up(torch::relu(b.mid(torch::relu(b.down(torch::relu(s))))));
  return out2(torch::relu(out1(torch::relu(s))));  // [N, K, H, W]
}

torch::Tensor PixelCnnImpl::log_prob(const torch::Tensor& x) {
  return head_log_prob(options.head(), logits_per_pixel(logits(x)), flatten_pixels(x, dims(), "pixelcnn"));
}

torch::Tensor PixelCnnImpl::conditionals(const torch::Tensor& x, int64_t ordering) {
  check_one_ordering(ordering, "pixelcnn");
  return logits_per_pixel(logits(x));
}

torch::Tensor PixelCnnImpl::generation_rank(int64_t ordering) const { return raster_rank(dims(), ordering, "pixelcnn"); }

torch::Tensor PixelCnnImpl::generate(const torch::Tensor& x, const torch::Tensor& observed, const torch::Tensor& uniforms,
                                     SampleMethod method) {
  return generate_pixels(
      x, observed, uniforms, method, options.head(), first->weight.scalar_type(),
      [this](const torch::Tensor& v) { return logits(v); },
      [this](int64_t n) { return std::make_unique<PixelCnnCache>(*this, n); }, "pixelcnn");
}

torch::Tensor PixelCnnImpl::sample_by(int64_t n, SampleMethod method) {
  return sample_pixels(*this, n, options.shape()[1], options.shape()[2], first->weight.options(), method);
}

torch::Tensor PixelCnnImpl::complete(const torch::Tensor& x, const torch::Tensor& observed) {
  return complete_pixels(*this, x, observed);
}

bool PixelCnnImpl::completion_is_exact(const torch::Tensor& observed) const {
  return raster_completion_is_exact(observed, dims(), "pixelcnn");
}

ModelInfo pixelcnn_model_info() {
  ModelInfo info = pixel_model_info(
      "pixelcnn", "PixelCNN: masked convolutions give every conditional at once (exact log p, pixel-by-pixel sampling)",
      {Capability::Sample, Capability::Density, Capability::Complete, Capability::Autoregressive});
  info.create = [](ModelContext& ctx) -> ModulePtr {
    const PixelCnnOptions d;
    const auto k = read_pixel_net_keys(*ctx.config, "model.blocks",
                                       {d.channels(), d.blocks(), d.first_kernel(), d.kernel(), d.output_channels()},
                                       0, 1);
    PixelCnnOptions o;
    o.shape({ctx.data.channels, ctx.data.height, ctx.data.width}).head(pixel_head_for(ctx.data.format, "pixelcnn"));
    o.channels(k.channels).blocks(k.depth).first_kernel(k.first_kernel).kernel(k.kernel).output_channels(k.output_channels);
    return PixelCnn(o).ptr();
  };
  return info;
}

}  // namespace genzoo
