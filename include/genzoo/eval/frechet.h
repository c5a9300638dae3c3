#pragma once
// Distances between feature distributions: FID and KID. Features are float or
// double [N, F]; all arithmetic is in double precision.
//   FID = |mu1 - mu2|^2 + tr S1 + tr S2 - 2 tr (S1^1/2 S2 S1^1/2)^1/2      (Heusel et al. 2017)
//   the last trace from the eigenvalues of the symmetric S1^1/2 S2 S1^1/2,
//   negative eigenvalues (round-off) clamped to 0.
//   KID = unbiased MMD^2 with k(x, y) = (x.y / F + 1)^3, averaged over
//   subsets of size min(n, subset_size)                                   (Binkowski et al. 2018)
#include <torch/torch.h>

#include <cstdint>

namespace genzoo {

struct GaussianStats {
  torch::Tensor mean;  // double [F]
  torch::Tensor cov;   // double [F, F], unbiased (N - 1)
  int64_t count = 0;
};

/// Mean and covariance of features [N, F] (N >= 2).
GaussianStats gaussian_stats(const torch::Tensor& features);

/// Fréchet distance between two Gaussians.
double frechet_distance(const GaussianStats& a, const GaussianStats& b);

struct KidResult {
  double mean = 0, std = 0;  // over subsets
  int64_t subsets = 0, subset_size = 0;
};

/// KID between real [N, F] and generated [M, F] features; subsets drawn
/// without replacement within a subset, with a generator seeded by `seed`.
KidResult kernel_inception_distance(const torch::Tensor& real, const torch::Tensor& fake,
                                    int64_t subsets = 100, int64_t subset_size = 1000,
                                    uint64_t seed = 0);

}  // namespace genzoo
