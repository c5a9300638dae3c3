#pragma once
// Gated PixelCNN (van den Oord, Kalchbrenner, Vinyals, Espeholt, Graves &
// Kavukcuoglu 2016, "Conditional Image Generation with PixelCNN Decoders"):
// two stacks remove PixelCNN's blind spot.
//   vertical   v_i = gate(V_i * v_{i-1} + c^v_i(y)), V_i a (k/2 + 1) x k kernel
//              over the rows up to the current one (v_{-1} = x);
//   horizontal h_i = h_{i-1} + R_i gate(H_i * h_{i-1} + L_i shift(V_i * v_{i-1}) + c^h_i(y)),
//              H_i a 1 x (k/2 + 1) kernel over the current row up to the
//              current pixel (layer 0: strictly before it, on x, and without
//              the residual), L_i and R_i 1 x 1, shift moving the vertical
//              features down one row so that row r sees rows < r only;
//   gate(a) = tanh(a_1) ⊙ σ(a_2) over the two halves of a's 2h channels;
//   logits = O_2 relu(O_1 relu(h_L)).
// c^v_i(y), c^h_i(y): per-layer learned vectors of the class y (the paper's
// V^T h with h a one-hot label) when model.conditional, added to both
// gates' inputs. Every pixel before the current one in raster order is in
// the receptive field (rows above through the vertical stack, the row's left
// part through the horizontal one), up to the stacks' reach.
// Cached sampling (Ramachandran et al. 2017): the vertical stack is computed
// a row at a time when a row begins, the horizontal stack and the output a
// pixel at a time, from per-layer caches of their inputs.
#include <torch/torch.h>

#include <vector>

#include "genzoo/models/explicit/pixel_model.h"
#include "genzoo/models/model.h"

namespace genzoo {

struct GatedPixelCnnOptions {
  /// Shape of one image {1, H, W}.
  TORCH_ARG(std::vector<int64_t>, shape) = std::vector<int64_t>{1, 28, 28};
  TORCH_ARG(PixelHead, head) = PixelHead::Bernoulli;
  /// h: channels of both stacks (each gate reads 2h pre-activations).
  TORCH_ARG(int64_t, channels) = 32;
  /// Gated layers, the first included.
  TORCH_ARG(int64_t, layers) = 6;
  /// The first layer's kernel size k0 (odd, >= 3) and the later layers' k (odd, >= 3).
  TORCH_ARG(int64_t, first_kernel) = 7;
  TORCH_ARG(int64_t, kernel) = 3;
  /// Width of the hidden 1 x 1 output layer.
  TORCH_ARG(int64_t, output_channels) = 64;
  /// Class labels 0..classes-1 condition every gate; 0 = unconditional.
  TORCH_ARG(int64_t, classes) = 0;
};

/// What the unconditional and the class-conditional model share (the
/// conditional one adds the ClassConditional and ConditionalDensity
/// interfaces; an unconditional one must not claim them).
template <typename Self>
struct GatedBase : torch::nn::Cloneable<Self>, Sampler, Density, Completer, Autoregressive, MethodSampler {
  explicit GatedBase(GatedPixelCnnOptions options);
  void reset() override;

  /// The network for images x [N, 1, H, W] (data space) of classes `labels`
  /// (int64 [N]; undefined for an unconditional model) -> [N, K, H, W].
  torch::Tensor logits(const torch::Tensor& x, const torch::Tensor& labels);
  /// log p(x): unconditional, or log sum_y p(y) p(x | y) over the class prior.
  torch::Tensor log_prob(const torch::Tensor& x) override;
  /// log p(x | y), [N] (labels undefined for an unconditional model).
  torch::Tensor log_prob_labelled(const torch::Tensor& x, const torch::Tensor& labels);
  /// Labels drawn from the class prior first when conditional.
  torch::Tensor sample(int64_t n) override { return sample_by(n, SampleMethod::Cached); }
  torch::Tensor sample_by(int64_t n, SampleMethod method) override;
  /// Labels from the prior when conditional.
  torch::Tensor generate(const torch::Tensor& x, const torch::Tensor& observed, const torch::Tensor& uniforms,
                         SampleMethod method) override;
  /// Fills the pixels `observed` does not mark, for classes `labels` (undefined when unconditional).
  torch::Tensor generate_given(const torch::Tensor& x, const torch::Tensor& observed, const torch::Tensor& uniforms,
                               const torch::Tensor& labels, SampleMethod method);
  torch::Tensor complete(const torch::Tensor& x, const torch::Tensor& observed) override;
  bool completion_is_exact(const torch::Tensor& observed) const override;
  torch::Tensor conditionals(const torch::Tensor& x, int64_t ordering) override;
  torch::Tensor generation_rank(int64_t ordering) const override;
  /// The class prior from training labels int64 [N] (add-one smoothed frequencies).
  void set_class_prior(const torch::Tensor& labels);
  /// Labels for n images: drawn from the prior when conditional, undefined otherwise.
  torch::Tensor draw_labels(int64_t n) const;

  int64_t dims() const { return options.shape()[1] * options.shape()[2]; }

  struct Layer {
    torch::nn::Conv2d vertical{nullptr}, horizontal{nullptr}, link{nullptr}, residual{nullptr};
    torch::nn::Embedding class_v{nullptr}, class_h{nullptr};
  };
  GatedPixelCnnOptions options;
  std::vector<Layer> layers;
  torch::nn::Conv2d out1{nullptr}, out2{nullptr};
  torch::Tensor log_prior;  // [classes] buffer (conditional), undefined otherwise
};

struct GatedPixelCnnImpl : GatedBase<GatedPixelCnnImpl> {
  using GatedBase<GatedPixelCnnImpl>::GatedBase;
};
TORCH_MODULE(GatedPixelCnn);

/// model.conditional = true: p(x | y) with the class in every gate.
struct ConditionalGatedPixelCnnImpl : GatedBase<ConditionalGatedPixelCnnImpl>, ClassConditional, ConditionalDensity {
  using GatedBase<ConditionalGatedPixelCnnImpl>::GatedBase;
  int64_t classes() const override { return options.classes(); }
  torch::Tensor class_log_prior() const override { return log_prior.to(torch::kFloat64); }
  torch::Tensor sample_given(const torch::Tensor& labels) override;
  torch::Tensor log_prob_given(const torch::Tensor& x, const torch::Tensor& labels) override {
    return log_prob_labelled(x, labels);
  }
};
TORCH_MODULE(ConditionalGatedPixelCnn);

/// gate(a) = tanh(a[:, :h]) ⊙ sigmoid(a[:, h:]) over dimension 1 (2h channels).
torch::Tensor gated_unit(const torch::Tensor& a);

/// Registry entry "gated-pixelcnn" (reads model.channels, layers,
/// first_kernel, kernel, output_channels, conditional).
ModelInfo gated_pixelcnn_model_info();

}  // namespace genzoo
