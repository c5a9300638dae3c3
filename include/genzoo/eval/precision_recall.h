#pragma once
// Improved precision and recall (Kynkäänniemi et al. 2019). Each set's
// manifold is the union of balls around its points, reaching each point's
// k-th nearest neighbour within the set (the point itself excluded).
//   precision = share of generated points inside the real manifold
//   recall    = share of real points inside the generated manifold
#include <torch/torch.h>

namespace genzoo {

struct PrecisionRecall {
  double precision = 0, recall = 0;
  int64_t k = 3, real_count = 0, fake_count = 0;
};

/// real [N, F], fake [M, F]; exact pairwise distances computed in blocks of
/// `block` rows so memory stays O(block * max(N, M)).
PrecisionRecall precision_recall(const torch::Tensor& real, const torch::Tensor& fake,
                                 int64_t k = 3, int64_t block = 1024);

/// Distance from every row of `x` [N, F] to its k-th nearest other row, [N].
torch::Tensor kth_neighbour_radius(const torch::Tensor& x, int64_t k, int64_t block = 1024);

}  // namespace genzoo
