#pragma once
// How alike two textures are, without a trained network (the Generative
// ConvNet issue's texture figure):
//   spectrum distance  the root mean square difference, in decades, of the
//                      radially averaged power spectra log10 P(r) of the two
//                      images (grey = the mean of the channels, its mean
//                      removed; P = |FFT|² / (H W); r the frequency radius in
//                      cycles per pixel, bins of equal width on (0, 0.5]),
//                      so images of different sizes compare;
//   histogram distance the Wasserstein-1 distance between the two images'
//                      grey-level distributions (mean |Q_a(u) − Q_b(u)| over
//                      513 quantiles u), in grey units of [0, 1].
// texture_similarity puts a set of syntheses beside a source image, with a
// floor (two disjoint crops of the source, as alike as the source is to
// itself: each crop against the whole source, as the syntheses are) and a
// ceiling (grey white noise of the source's mean and sd).
#include <torch/torch.h>

#include <cstdint>

namespace genzoo {

/// log10 of the radially averaged power spectrum of one image [C, H, W] or
/// [H, W] in [0, 1]: double [bins]. Empty bins (tiny images) are NaN.
torch::Tensor radial_log_spectrum(const torch::Tensor& image, int64_t bins = 32);

/// RMS difference of two images' log spectra over the bins both have, decades.
double spectrum_distance(const torch::Tensor& a, const torch::Tensor& b, int64_t bins = 32);

/// Wasserstein-1 distance between the grey values of two images.
double histogram_distance(const torch::Tensor& a, const torch::Tensor& b);

struct TextureSimilarity {
  double spectrum = 0, spectrum_stderr = 0;    ///< syntheses against the source, mean over syntheses
  double histogram = 0, histogram_stderr = 0;
  /// Two disjoint crops of the source, of the compared size, each against
  /// the whole source (mean of the two).
  double spectrum_floor = 0, histogram_floor = 0;
  double spectrum_noise = 0, histogram_noise = 0;  ///< grey white noise of the source's mean and sd, against it
  int64_t syntheses = 0;
  /// The size compared: the syntheses' own when two disjoint crops of it fit
  /// in the source; else (syntheses as large as the source, a model trained
  /// on the whole photo) the syntheses' top-left crop of half the source's
  /// height, so that floor, syntheses and noise are all of one size.
  int64_t compared_height = 0, compared_width = 0;
};

/// samples [n, C, h, w] in [0, 1] against one source image [C, H, W]; the
/// floor's crops and the noise are of the compared size, the noise drawn
/// from `seed`.
TextureSimilarity texture_similarity(const torch::Tensor& samples, const torch::Tensor& source, uint64_t seed);

}  // namespace genzoo
