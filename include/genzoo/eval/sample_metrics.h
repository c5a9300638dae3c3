#pragma once
// The feature-space comparisons of generated images with reference images,
// in one call, so `genzoo eval RUN` and `genzoo data baseline` measure the
// same way. Images are float [N, C, H, W] in [0, 1].
#include <torch/torch.h>

#include <string>
#include <utility>
#include <vector>

#include "genzoo/eval/feature_net.h"

namespace genzoo {

using NamedValues = std::vector<std::pair<std::string, double>>;

struct FeatureMetricsRequest {
  bool fid = true, kid = true, precision_recall = true, classifier_score = true;
  int64_t kid_subsets = 100, kid_subset_size = 1000;
  int64_t pr_k = 3;
  int64_t cs_splits = 10;
  uint64_t seed = 0;
};

/// fid, kid (+ kid_std), precision, recall, classifier_score (+ _std), and the
/// sample counts they used, as named values.
NamedValues feature_metrics(FeatureNet& net, const torch::Tensor& reference,
                            const torch::Tensor& generated, const FeatureMetricsRequest& request);

/// Memorisation check: for each generated image its nearest training images.
/// Returns the distance statistics (nearest-neighbour L2 distance: mean, min,
/// median) and, when `figure_path` is set, writes a PNG whose rows are a
/// generated image followed by its `k` nearest training images.
NamedValues memorisation(const torch::Tensor& generated, const torch::Tensor& training, int64_t k,
                         int64_t figure_rows, const std::string& figure_path);

}  // namespace genzoo
