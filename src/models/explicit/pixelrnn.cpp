#include "genzoo/models/explicit/pixelrnn.h"

#include <utility>

#include "genzoo/core/error.h"
#include "genzoo/models/explicit/autoregressive.h"
#include "genzoo/models/explicit/pixelcnn.h"
#include "genzoo/models/shapes.h"

namespace genzoo {

namespace {

// The cached sampler: the first convolution and every layer's
// input-to-state at the new position only; at the start of each row, every
// layer's state-to-state term for the whole row from the previous row's
// states (complete by then).
class RowLstmCache : public RasterStepper {
 public:
  RowLstmCache(PixelRnnImpl& m, int64_t n) : m_(m) {
    const auto& o = m.options;
    width_ = o.shape()[2];
    auto opts = m.first->weight.options();
    input_ = torch::zeros({n, 1, o.shape()[1] + m.first->padding_rows(), width_ + 2 * m.first->padding_cols()}, opts);
    for (auto& l : m.layers) {
      rows_in_.push_back(torch::zeros({n, 2 * o.channels(), 1, width_ + 2 * l.input_to_state->padding_cols()}, opts));
      h_prev_.push_back(torch::zeros({n, o.channels(), width_}, opts));
      c_prev_.push_back(torch::zeros({n, o.channels(), width_}, opts));
      h_cur_.push_back(torch::zeros({n, o.channels(), width_}, opts));
      c_cur_.push_back(torch::zeros({n, o.channels(), width_}, opts));
      state_terms_.push_back(torch::Tensor());
    }
  }

  torch::Tensor logits_at(const torch::Tensor& x, int64_t r, int64_t c) override {
    const int64_t d = r * width_ + c;
    for (; written_ < d; ++written_) {
      const int64_t pr = written_ / width_, pc = written_ % width_;
      input_.select(3, pc + m_.first->padding_cols())
          .select(2, pr + m_.first->padding_rows())
          .copy_(centre_pixels(m_.options.head(), x.select(3, pc).select(2, pr)));
    }
    if (c == 0)
      for (size_t l = 0; l < m_.layers.size(); ++l) {
        if (r > 0) {  // the row just finished becomes the previous one
          std::swap(h_prev_[l], h_cur_[l]);
          std::swap(c_prev_[l], c_cur_[l]);
        }
        state_terms_[l] = m_.layers[l].state_to_state(h_prev_[l]);  // [N, 4h, W]
        rows_in_[l].zero_();
      }
    auto s = m_.first->forward_at(input_, r, c);  // [N, 2h]
    for (size_t l = 0; l < m_.layers.size(); ++l) {
      auto& layer = m_.layers[l];
      rows_in_[l].select(3, c + layer.input_to_state->padding_cols()).select(2, 0).copy_(s);
      auto gates = layer.input_to_state->forward_at(rows_in_[l], 0, c) + state_terms_[l].select(2, c);  // [N, 4h]
      auto [h, cell] = lstm_update(gates, c_prev_[l].select(2, c));
      h_cur_[l].select(2, c).copy_(h);
      c_cur_[l].select(2, c).copy_(cell);
      s = s + pointwise(layer.residual, h);
    }
    auto out = pointwise(m_.out2, torch::relu(pointwise(m_.out1, torch::relu(s))));  // [N, K]
    return out.size(1) == 1 ? out.squeeze(1) : out;
  }

 private:
  PixelRnnImpl& m_;
  int64_t width_ = 0, written_ = 0;
  torch::Tensor input_;
  std::vector<torch::Tensor> rows_in_, h_prev_, c_prev_, h_cur_, c_cur_, state_terms_;
};

}  // namespace

std::pair<torch::Tensor, torch::Tensor> lstm_update(const torch::Tensor& gates, const torch::Tensor& cell) {
  auto parts = gates.chunk(4, 1);  // o, f, i, g
  auto c = torch::sigmoid(parts[1]) * cell + torch::sigmoid(parts[2]) * torch::tanh(parts[3]);
  return {torch::sigmoid(parts[0]) * torch::tanh(c), c};
}

PixelRnnImpl::PixelRnnImpl(PixelRnnOptions options_) : options(std::move(options_)) { reset(); }

void PixelRnnImpl::reset() {
  const auto& o = options;
  TORCH_CHECK(o.shape().size() == 3 && o.shape()[0] == 1, "pixelrnn: shape must be {1, H, W}");
  TORCH_CHECK(o.channels() >= 1 && o.layers() >= 1 && o.output_channels() >= 1,
              "pixelrnn: channels, layers and output_channels must be >= 1");
  const int64_t h = o.channels();
  first = register_module("first",
                          MaskedConv2d(MaskedConv2dOptions(1, 2 * h, o.first_kernel(), o.first_kernel(), MaskType::A)));
  layers.clear();
  for (int64_t l = 0; l < o.layers(); ++l) {
    const std::string n = "layer" + std::to_string(l);
    Layer layer;
    layer.input_to_state =
        register_module(n + "_input_to_state", MaskedConv2d(MaskedConv2dOptions(2 * h, 4 * h, 1, o.kernel(), MaskType::B)));
    layer.state_to_state = register_module(
        n + "_state_to_state",
        torch::nn::Conv1d(torch::nn::Conv1dOptions(h, 4 * h, o.kernel()).padding(o.kernel() / 2).bias(false)));
    layer.residual = register_module(n + "_residual", torch::nn::Conv2d(torch::nn::Conv2dOptions(h, 2 * h, 1)));
    layers.push_back(layer);
  }
  out1 = register_module("out1", torch::nn::Conv2d(torch::nn::Conv2dOptions(2 * h, o.output_channels(), 1)));
  out2 = register_module("out2", torch::nn::Conv2d(torch::nn::Conv2dOptions(o.output_channels(), head_outputs(o.head()), 1)));
}

torch::Tensor PixelRnnImpl::logits(const torch::Tensor& x) {
  TORCH_CHECK(x.dim() == 4 && x.size(1) == 1 && x.size(2) == options.shape()[1] && x.size(3) == options.shape()[2],
              "pixelrnn: expected images [N, 1, ", options.shape()[1], ", ", options.shape()[2], "], got ", x.sizes());
  const int64_t n = x.size(0), rows = x.size(2), w = x.size(3), h = options.channels();
  auto s = first->forward(centre_pixels(options.head(), x.to(first->weight.dtype())));  // [N, 2h, H, W]
  for (auto& layer : layers) {
    auto is = layer.input_to_state->forward(s);  // [N, 4h, H, W]
    auto hidden = torch::zeros({n, h, w}, s.options()), cell = torch::zeros({n, h, w}, s.options());
    std::vector<torch::Tensor> out_rows;
    for (int64_t r = 0; r < rows; ++r) {
      auto gates = is.select(2, r) + layer.state_to_state(hidden);  // [N, 4h, W]
      std::tie(hidden, cell) = lstm_update(gates, cell);
      out_rows.push_back(hidden);
    }
    s = s + layer.residual(torch::stack(out_rows, 2));  // [N, 2h, H, W]
  }
  return out2(torch::relu(out1(torch::relu(s))));
}

torch::Tensor PixelRnnImpl::log_prob(const torch::Tensor& x) {
  return head_log_prob(options.head(), logits_per_pixel(logits(x)), flatten_pixels(x, dims(), "pixelrnn"));
}

torch::Tensor PixelRnnImpl::conditionals(const torch::Tensor& x, int64_t ordering) {
  check_one_ordering(ordering, "pixelrnn");
  return logits_per_pixel(logits(x));
}

torch::Tensor PixelRnnImpl::generation_rank(int64_t ordering) const { return raster_rank(dims(), ordering, "pixelrnn"); }

torch::Tensor PixelRnnImpl::generate(const torch::Tensor& x, const torch::Tensor& observed, const torch::Tensor& uniforms,
                                     SampleMethod method) {
  return generate_pixels(
      x, observed, uniforms, method, options.head(), first->weight.scalar_type(),
      [this](const torch::Tensor& v) { return logits(v); },
      [this](int64_t n) { return std::make_unique<RowLstmCache>(*this, n); }, "pixelrnn");
}

torch::Tensor PixelRnnImpl::sample_by(int64_t n, SampleMethod method) {
  return sample_pixels(*this, n, options.shape()[1], options.shape()[2], first->weight.options(), method);
}

torch::Tensor PixelRnnImpl::complete(const torch::Tensor& x, const torch::Tensor& observed) {
  return complete_pixels(*this, x, observed);
}

bool PixelRnnImpl::completion_is_exact(const torch::Tensor& observed) const {
  return raster_completion_is_exact(observed, dims(), "pixelrnn");
}

ModelInfo pixelrnn_model_info() {
  ModelInfo info = pixel_model_info(
      "pixelrnn", "PixelRNN, Row LSTM: LSTM states computed a row at a time (exact log p, pixel-by-pixel sampling)",
      {Capability::Sample, Capability::Density, Capability::Complete, Capability::Autoregressive});
  info.create = [](ModelContext& ctx) -> ModulePtr {
    const PixelRnnOptions d;
    const auto k = read_pixel_net_keys(*ctx.config, "model.layers",
                                       {d.channels(), d.layers(), d.first_kernel(), d.kernel(), d.output_channels()},
                                       1, 1);
    PixelRnnOptions o;
    o.shape({ctx.data.channels, ctx.data.height, ctx.data.width}).head(pixel_head_for(ctx.data.format, "pixelrnn"));
    o.channels(k.channels).layers(k.depth).first_kernel(k.first_kernel).kernel(k.kernel).output_channels(k.output_channels);
    return PixelRnn(o).ptr();
  };
  return info;
}

}  // namespace genzoo
