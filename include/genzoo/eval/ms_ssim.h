#pragma once
// Multi-scale structural similarity (Wang, Simoncelli & Bovik 2003) as a
// diversity measure of samples (Odena, Olah & Shlens 2017: the mean MS-SSIM
// of random pairs of samples; lower = more diverse, 1 = identical).
// At scale j (the image average-pooled 2 x 2, j - 1 times), with local means,
// variances and covariance under a Gaussian window (valid positions only),
//   cs_j = mean (2 s_xy + C2) / (s_x^2 + s_y^2 + C2)
//   l    = mean (2 m_x m_y + C1) / (m_x^2 + m_y^2 + C1)      (at the coarsest scale,
//          taken as the mean of the product l * cs there, i.e. its SSIM)
//   MS-SSIM = SSIM_M^{w_M} prod_{j<M} max(cs_j, 0)^{w_j},
// C1 = (0.01 L)^2, C2 = (0.03 L)^2 for pixels in [0, L]. Wang et al.'s
// 5 scales and 11 x 11 window (sigma 1.5) do not fit 28 x 28 images, whose
// third halving is 7 x 7: genzoo uses a 7 x 7 window (sigma 1.5) and as many
// scales as keep the coarsest side >= the window, at most 5 (3 for 28 x 28:
// 28, 14, 7), with Wang et al.'s first weights renormalised to sum to 1
// (0.0448, 0.2856, 0.3001 -> 0.0711, 0.4530, 0.4760).
#include <torch/torch.h>

#include <cstdint>

namespace genzoo {

struct MsSsimOptions {
  int64_t window = 7;
  double sigma = 1.5;
  /// 0 = as many as fit (see above).
  int64_t scales = 0;
  double data_range = 1.0;
};

/// The scales used for images of side `min_side` (>= window).
int64_t ms_ssim_scales(int64_t min_side, const MsSsimOptions& options = {});

/// MS-SSIM of each pair (x[i], y[i]), images [N, C, H, W] in [0, L]: [N] double.
torch::Tensor ms_ssim(const torch::Tensor& x, const torch::Tensor& y, const MsSsimOptions& options = {});

struct PairwiseMsSsim {
  double mean = 0, stderr_mean = 0;
  int64_t pairs = 0;
};

/// The mean MS-SSIM over `pairs` random pairs of distinct images of
/// `images` [N, C, H, W] (N >= 2), drawn from `seed`; with its standard error.
PairwiseMsSsim random_pair_ms_ssim(const torch::Tensor& images, int64_t pairs, uint64_t seed,
                                   const MsSsimOptions& options = {});

}  // namespace genzoo
