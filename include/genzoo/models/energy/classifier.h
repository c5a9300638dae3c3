#pragma once
// A softmax ConvNet classifier that is also a family of class-conditional
// generative models (Xie, Lu, Zhu, Wu 2016, sec. 5; the "classifier ⇄
// generator" of the issue): the class scores f_c(I) of a ReLU ConvNet
// without normalisation layers tilt the reference q = N(0, σ²I),
//   p(I | c) ∝ exp(f_c(I)) q(I),
// with the classifier's own parameters, so that
//   p(c | I) = exp(f_c(I)) / Σ_k exp(f_k(I))
// is the softmax of the same scores (under a uniform class prior and equal
// normalisers). Sampling from p(I | c) is Langevin dynamics on
// E_c(I) = ‖I‖²/2σ² − f_c(I), the Generative ConvNet's sampler with f_c
// in place of f. Images are on the Generative ConvNet's scale,
// I = 255 (x − m), m the training mean; the network reads I / 255.
#include <torch/torch.h>

#include <cstdint>
#include <vector>

#include "genzoo/models/energy/generative_convnet.h"
#include "genzoo/models/model.h"
#include "genzoo/sampling/langevin.h"

namespace genzoo {

struct ConvClassifierOptions {
  TORCH_ARG(int64_t, channels) = 1;
  TORCH_ARG(int64_t, height) = 28;
  TORCH_ARG(int64_t, width) = 28;
  TORCH_ARG(int64_t, classes) = 10;
  /// The convolutions, FxKsSpP each (config: model.layers), ReLU after each.
  TORCH_ARG(std::vector<GcnLayer>, layers) = (std::vector<GcnLayer>{{32, 5, 2, 2}, {64, 5, 2, 2}});
  /// A ReLU fully connected layer before the class scores; 0 = none.
  TORCH_ARG(int64_t, hidden) = 256;
  /// σ of the reference q = N(0, σ²I), on the 0-255 scale.
  TORCH_ARG(double, sigma) = 20.0;
  /// δ, the Langevin step (noise δ, drift δ²/2).
  TORCH_ARG(double, step_size) = 4.0;
  /// Langevin steps of sample_given, from the mean image.
  TORCH_ARG(int64_t, sample_steps) = 200;
  /// Persistent chains of the generative objective (config: objective.chains).
  TORCH_ARG(int64_t, chains) = 100;
};

struct ConvClassifierImpl : torch::nn::Cloneable<ConvClassifierImpl>, Sampler, ClassConditional, Classifier,
                            Energy, VisibleUnits {
  explicit ConvClassifierImpl(ConvClassifierOptions options = {});
  void reset() override;

  void set_mean(const torch::Tensor& train);
  torch::Tensor to_model(const torch::Tensor& x) const;  ///< x in [0, 1] -> I = 255 (x − m)
  torch::Tensor to_data(const torch::Tensor& image) const;

  /// f(I): the class scores [N, classes] for I [N, C, H, W] on the model scale.
  torch::Tensor scores(const torch::Tensor& image);
  /// f_{labels[n]}(I_n), [N].
  torch::Tensor class_score(const torch::Tensor& image, const torch::Tensor& labels);
  /// E_c(I) = ‖I‖²/2σ² − f_c(I), [N], each image with its own label.
  torch::Tensor class_energy(const torch::Tensor& image, const torch::Tensor& labels);
  /// The coupled Langevin update of step δ.
  LangevinOptions langevin_options(int64_t steps) const;
  /// Langevin on E_{labels} from I0 (model scale).
  ChainResult synthesise(const torch::Tensor& start, const torch::Tensor& labels, int64_t steps);

  // Classifier: logits of x in [0, 1].
  int64_t classes() const override { return options.classes(); }
  torch::Tensor class_logits(const torch::Tensor& x) override { return scores(to_model(x)); }
  // ClassConditional / Sampler: sample_steps Langevin steps from the mean
  // image, clamped to [0, 1]; sample(n) draws the labels uniformly.
  torch::Tensor sample_given(const torch::Tensor& labels) override;
  torch::Tensor sample(int64_t n) override;
  /// Energy of the marginal p(I) = Σ_c p(I | c) / K under equal normalisers:
  /// ‖I‖²/2σ² − log Σ_c exp f_c(I), on the data scale.
  torch::Tensor energy(const torch::Tensor& x) override;
  // VisibleUnits: the convolutions' channels, then the hidden layer's and
  // the class scores' units.
  std::vector<int64_t> unit_layers() const override;
  torch::Tensor maximise_units(const torch::Tensor& x0, int64_t layer, const torch::Tensor& units,
                               int64_t steps) override;

  ConvClassifierOptions options;
  torch::nn::ModuleList convs;
  torch::nn::Linear fc{nullptr}, out{nullptr};
  torch::Tensor mean;  // [C], buffer
  /// The generative objective's persistent chains [chains, C, H, W] (model
  /// scale) and their labels [chains] (class n mod K), buffers.
  torch::Tensor synthesis, synthesis_labels;

 private:
  /// The responses of layer `layer` (convolutions, then fc, then out).
  torch::Tensor layer_responses(const torch::Tensor& image, int64_t layer);
};
TORCH_MODULE(ConvClassifier);

/// Registry entry: model.layers, hidden, sigma, step_size, sample_steps;
/// objective.chains.
ModelInfo classifier_model_info();

}  // namespace genzoo
