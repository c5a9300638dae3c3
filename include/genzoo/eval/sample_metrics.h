#pragma once
// The feature-space comparisons of generated images with reference images.
// Features are extracted once (FeatureSets) and shared by every metric, so
// `genzoo eval RUN`, `genzoo eval --images` and `genzoo data baseline`
// measure the same way. Images are float [N, C, H, W] in [0, 1].
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

/// The penultimate-layer features of both image sets, and the network's
/// class probabilities of the generated ones.
struct FeatureSets {
  torch::Tensor real;        // [N, F]
  torch::Tensor fake;        // [M, F]
  torch::Tensor fake_probs;  // [M, K] p(y | x) of the generated images
  double seconds = 0;        // time to extract them
};
FeatureSets feature_sets(FeatureNet& net, const torch::Tensor& reference, const torch::Tensor& generated);
/// The same with the reference's features already extracted ([N, F]).
FeatureSets feature_sets_with_reference(FeatureNet& net, torch::Tensor real_features, const torch::Tensor& generated);

/// The features of `reference` through the network `net_id`, kept in folder
/// `cache_dir` between processes (genzoo compare's evaluations all score
/// the same test split): read when a file of this network and of exactly
/// these images (their shape and a 64-bit hash of their bytes) is there and
/// whole, else extracted and written. A damaged or foreign file is
/// recomputed, never trusted. `cache_dir` "" = no cache.
/// The key also holds a hash of the network's weights, so a replaced
/// network never reads another's features. `hit` (when given): whether the
/// features came from the file.
torch::Tensor cached_reference_features(FeatureNet& net, const std::string& net_id, const torch::Tensor& reference,
                                        const std::string& cache_dir, bool* hit = nullptr);

/// fid (+ seconds_fid).
NamedValues fid_values(const FeatureSets& f);
/// kid, kid_std, kid_subset_size (+ seconds_kid).
NamedValues kid_values(const FeatureSets& f, const FeatureMetricsRequest& request);
/// precision, recall (+ seconds_pr).
NamedValues precision_recall_values(const FeatureSets& f, const FeatureMetricsRequest& request);
/// classifier_score, classifier_score_std (+ seconds_cs).
NamedValues classifier_score_values(const FeatureSets& f, const FeatureMetricsRequest& request);

/// All of the above that `request` asks for, with seconds_features,
/// reference_count and generated_count first.
NamedValues feature_metrics(FeatureNet& net, const torch::Tensor& reference,
                            const torch::Tensor& generated, const FeatureMetricsRequest& request);

/// Memorisation check: for each generated image its nearest training images.
/// Returns the distance statistics (nearest-neighbour L2 distance: mean, min,
/// median) and, when `figure_path` is set, writes a PNG whose rows are a
/// generated image followed by its `k` nearest training images.
NamedValues memorisation(const torch::Tensor& generated, const torch::Tensor& training, int64_t k,
                         int64_t figure_rows, const std::string& figure_path);

/// What "not a copy" looks like: the mean distance from `count` real
/// images, a seeded random subset of `real` (random_subset with `seed`), to
/// their nearest training image. Random, not the first `count`: a split
/// stored by class would otherwise measure a few classes only.
double memorisation_reference(const torch::Tensor& real, const torch::Tensor& training, int64_t count,
                              uint64_t seed);

}  // namespace genzoo
