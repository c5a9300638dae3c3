#pragma once
// The feature network behind FID, KID, precision/recall and the classifier
// score: a small CNN classifier trained by genzoo with a fixed recipe and
// seed. Its 128-d penultimate activations are the feature space; its softmax
// gives p(y|x). The trained weights ship in assets/feature-nets/, so every
// number genzoo reports is measured in the same space; name the network
// (`FeatureNetInfo::id`) with every number.
//
// Architecture (input float [N, 1, 28, 28] in [0, 1]):
//   [conv3x3 32, BN, ReLU] x2, maxpool 2      -> [N, 32, 14, 14]
//   [conv3x3 64, BN, ReLU] x2, maxpool 2      -> [N, 64, 7, 7]
//   linear 3136 -> 128, BN, ReLU  (features)  -> [N, 128]
//   dropout, linear 128 -> classes            -> logits [N, classes]
#include <torch/torch.h>

#include <string>

#include "genzoo/data/dataset.h"

namespace genzoo {

struct FeatureNetOptions {
  /// Input channels.
  TORCH_ARG(int64_t, channels) = 1;
  /// Input height = width (a multiple of 4).
  TORCH_ARG(int64_t, size) = 28;
  /// Number of classes.
  TORCH_ARG(int64_t, classes) = 10;
  /// Width of the feature layer.
  TORCH_ARG(int64_t, features) = 128;
  /// Dropout before the last layer (training only).
  TORCH_ARG(double, dropout) = 0.3;
};

struct FeatureNetImpl : torch::nn::Cloneable<FeatureNetImpl> {
  explicit FeatureNetImpl(FeatureNetOptions options = {});
  void reset() override;

  /// x float [N, C, H, W] in [0, 1] -> features [N, F] (penultimate layer).
  torch::Tensor features(const torch::Tensor& x);
  /// x -> class logits [N, classes].
  torch::Tensor forward(const torch::Tensor& x);

  FeatureNetOptions options;
  torch::nn::Sequential body{nullptr};  // convolutions + feature layer
  torch::nn::Dropout dropout{nullptr};
  torch::nn::Linear head{nullptr};
};
TORCH_MODULE(FeatureNet);

/// The fixed training recipe.
struct FeatureNetRecipe {
  int64_t epochs = 12;
  int64_t batch_size = 128;
  double lr = 1e-3;          // Adam
  int64_t decay_epoch = 8;   // lr x 0.1 from this epoch on
  bool flip = true;          // random horizontal flips (fashion); off for digits
  int64_t shift = 2;         // random translations of up to +-shift pixels
  uint64_t seed = 0;
};

/// The recipe genzoo uses for a dataset ("fashion-mnist", "mnist-10k").
FeatureNetRecipe feature_net_recipe(const std::string& dataset);

/// Trains on the training split (images scaled to [0,1]), logging a line per
/// epoch to stderr. Returns the trained network in eval mode.
FeatureNet train_feature_net(const Dataset& data, const FeatureNetRecipe& recipe);

/// Test-split accuracy in [0, 1].
double classifier_accuracy(FeatureNet& net, const torch::Tensor& images, const torch::Tensor& labels,
                           int64_t batch_size = 1000);

/// Features [N, F] and class probabilities [N, K] of float images in [0,1],
/// in batches, without gradients.
torch::Tensor extract_features(FeatureNet& net, const torch::Tensor& images, int64_t batch_size = 1000);
torch::Tensor class_probabilities(FeatureNet& net, const torch::Tensor& images,
                                  int64_t batch_size = 1000);

struct FeatureNetInfo {
  std::string id;    // e.g. "genzoo-fnet-fashion-mnist-v1": name it with every number
  std::string path;  // the weights file
};

/// Where the shipped network for `dataset` lives ($GENZOO_FEATURE_NETS, the
/// install prefix's share/genzoo/feature-nets, or the source tree's
/// assets/feature-nets), and its id.
FeatureNetInfo feature_net_info(const std::string& dataset);

/// Loads the shipped network (genzoo::Error when there is none for `dataset`).
FeatureNet load_feature_net(const std::string& dataset);

void save_feature_net(FeatureNet& net, const std::string& path);

}  // namespace genzoo
