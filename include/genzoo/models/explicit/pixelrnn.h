#pragma once
// PixelRNN with Row LSTM layers (van den Oord, Kalchbrenner & Kavukcuoglu
// 2016, sec. 3.1): an LSTM whose state is computed a whole row at a time,
// top to bottom. For layer l with input s (2h channels) and row r,
//   [o, f, i, g]_r = K^is ⊛ s_r + K^ss ⊛ h_{r-1}          (4h channels)
//   c_r = σ(f) ⊙ c_{r-1} + σ(i) ⊙ tanh(g),   h_r = σ(o) ⊙ tanh(c_r),
// K^is a 1 x k input-to-state convolution masked to the pixels up to the
// current one (mask B), K^ss a 1 x k state-to-state convolution over the
// previous row's states (the paper's "k x 1"), h_{-1} = c_{-1} = 0; the
// layer adds a 1 x 1 projection of h to its input (a residual connection).
// The first layer is a k0 x k0 mask-A convolution of the image, the last
// two 1 x 1 layers give the logits (Bernoulli or 256-way softmax). The
// Row LSTM's receptive field is a triangle above the pixel (k/2 more
// columns each row up) plus the row to its left.
#include <torch/torch.h>

#include <utility>
#include <vector>

#include "genzoo/models/explicit/pixel_model.h"
#include "genzoo/models/model.h"

namespace genzoo {

struct PixelRnnOptions {
  /// Shape of one image {1, H, W}.
  TORCH_ARG(std::vector<int64_t>, shape) = std::vector<int64_t>{1, 28, 28};
  TORCH_ARG(PixelHead, head) = PixelHead::Bernoulli;
  /// h: LSTM state width; the stream between layers has 2h channels.
  TORCH_ARG(int64_t, channels) = 32;
  /// Row LSTM layers.
  TORCH_ARG(int64_t, layers) = 2;
  /// The first convolution's kernel (mask A), odd.
  TORCH_ARG(int64_t, first_kernel) = 7;
  /// k of the input-to-state and state-to-state convolutions, odd.
  TORCH_ARG(int64_t, kernel) = 3;
  /// Width of the hidden 1 x 1 output layer.
  TORCH_ARG(int64_t, output_channels) = 64;
};

struct PixelRnnImpl : torch::nn::Cloneable<PixelRnnImpl>, Sampler, Density, Completer, Autoregressive, MethodSampler {
  explicit PixelRnnImpl(PixelRnnOptions options = {});
  void reset() override;

  /// x [N, 1, H, W] (data space) -> logits [N, K, H, W].
  torch::Tensor logits(const torch::Tensor& x);
  torch::Tensor log_prob(const torch::Tensor& x) override;
  torch::Tensor sample(int64_t n) override { return sample_by(n, SampleMethod::Cached); }
  torch::Tensor sample_by(int64_t n, SampleMethod method) override;
  torch::Tensor generate(const torch::Tensor& x, const torch::Tensor& observed, const torch::Tensor& uniforms,
                         SampleMethod method) override;
  torch::Tensor complete(const torch::Tensor& x, const torch::Tensor& observed) override;
  bool completion_is_exact(const torch::Tensor& observed) const override;
  torch::Tensor conditionals(const torch::Tensor& x, int64_t ordering) override;
  torch::Tensor generation_rank(int64_t ordering) const override;

  int64_t dims() const { return options.shape()[1] * options.shape()[2]; }

  struct Layer {
    MaskedConv2d input_to_state{nullptr};
    torch::nn::Conv1d state_to_state{nullptr};
    torch::nn::Conv2d residual{nullptr};
  };
  PixelRnnOptions options;
  MaskedConv2d first{nullptr};
  std::vector<Layer> layers;
  torch::nn::Conv2d out1{nullptr}, out2{nullptr};
};
TORCH_MODULE(PixelRnn);

/// One LSTM update from gate pre-activations [..., 4h, ...] along dim 1 (o,
/// f, i, g in that order) and the previous cell c: returns {h, c}.
std::pair<torch::Tensor, torch::Tensor> lstm_update(const torch::Tensor& gates, const torch::Tensor& cell);

/// Registry entry "pixelrnn" (reads model.channels, layers, first_kernel,
/// kernel, output_channels).
ModelInfo pixelrnn_model_info();

}  // namespace genzoo
