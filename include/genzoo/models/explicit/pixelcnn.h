#pragma once
// PixelCNN (van den Oord, Kalchbrenner & Kavukcuoglu 2016, "Pixel Recurrent
// Neural Networks", sec. 3.4 and 3.5): every conditional p(x_i | x_<i) of a
// raster-order model computed at once by masked convolutions,
//   s_0 = MaskA_{k0 x k0}(x)                                       [2h channels]
//   s_b = s_{b-1} + U_b relu(MaskB_{k x k}(relu(D_b relu(s_{b-1}))))  (residual blocks,
//         D_b: 1 x 1, 2h -> h; U_b: 1 x 1, h -> 2h)
//   logits = O_2 relu(O_1 relu(s_B))                                 (1 x 1 layers)
// with a Bernoulli head for binary pixels or a 256-way softmax for grey
// levels (models/explicit/pixel_model.h). log p(x) is one forward pass.
// Stacked k x k masks leave a blind spot: pixels up and to the right of the
// current one that no path reaches, however deep the stack (sec. 3.4 of
// the Gated PixelCNN paper; tests/models/explicit/pixel_models_test.cpp shows
// it). Sampling draws pixel by pixel: `raster` reruns the network per
// pixel, `cached` computes each layer at the new position only, from
// per-layer input caches.
#include <torch/torch.h>

#include <vector>

#include "genzoo/models/explicit/pixel_model.h"
#include "genzoo/models/model.h"

namespace genzoo {

struct PixelCnnOptions {
  /// Shape of one image {1, H, W}.
  TORCH_ARG(std::vector<int64_t>, shape) = std::vector<int64_t>{1, 28, 28};
  /// Config: the data's format (binary -> bernoulli, levels256 -> softmax256).
  TORCH_ARG(PixelHead, head) = PixelHead::Bernoulli;
  /// h: the residual blocks' inner width; the stream between blocks has 2h channels.
  TORCH_ARG(int64_t, channels) = 32;
  /// Residual blocks.
  TORCH_ARG(int64_t, blocks) = 4;
  /// The first layer's kernel (mask A), odd.
  TORCH_ARG(int64_t, first_kernel) = 7;
  /// The blocks' kernel (mask B), odd.
  TORCH_ARG(int64_t, kernel) = 3;
  /// Width of the hidden 1 x 1 output layer.
  TORCH_ARG(int64_t, output_channels) = 64;
};

struct PixelCnnImpl : torch::nn::Cloneable<PixelCnnImpl>, Sampler, Density, Completer, Autoregressive, MethodSampler {
  explicit PixelCnnImpl(PixelCnnOptions options = {});
  void reset() override;

  /// The network: x [N, 1, H, W] (data space) -> logits [N, K, H, W].
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

  PixelCnnOptions options;
  MaskedConv2d first{nullptr};
  struct Block {
    torch::nn::Conv2d down{nullptr}, up{nullptr};
    MaskedConv2d mid{nullptr};
  };
  std::vector<Block> blocks;
  torch::nn::Conv2d out1{nullptr}, out2{nullptr};
};
TORCH_MODULE(PixelCnn);

/// Registry entry (reads model.channels, blocks, first_kernel, kernel,
/// output_channels; the head follows the data).
ModelInfo pixelcnn_model_info();

/// A 1 x 1 convolution applied at one position: v [N, in] -> [N, out].
torch::Tensor pointwise(const torch::nn::Conv2d& conv, const torch::Tensor& v);

}  // namespace genzoo
