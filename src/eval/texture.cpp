#include "genzoo/eval/texture.h"

#include <cmath>
#include <vector>

#include "genzoo/core/error.h"
#include "genzoo/core/rng.h"

namespace genzoo {
namespace {

// The grey image [H, W] in double: the mean of the channels.
torch::Tensor texture_grey(const torch::Tensor& image) {
  TORCH_CHECK(image.dim() == 2 || image.dim() == 3, "texture: expected an image [C, H, W] or [H, W], got ",
              image.sizes());
  auto x = image.to(torch::kFloat64);
  return x.dim() == 3 ? x.mean(0) : x;
}

double texture_mean_and_stderr(const std::vector<double>& v, double* stderr_out) {
  double sum = 0;
  for (double x : v) sum += x;
  const double mean = sum / static_cast<double>(v.size());
  double ss = 0;
  for (double x : v) ss += (x - mean) * (x - mean);
  *stderr_out = v.size() > 1 ? std::sqrt(ss / static_cast<double>(v.size() - 1) / static_cast<double>(v.size())) : 0.0;
  return mean;
}

}  // namespace

torch::Tensor radial_log_spectrum(const torch::Tensor& image, int64_t bins) {
  TORCH_CHECK(bins >= 1, "radial_log_spectrum: bins must be >= 1");
  auto g = texture_grey(image);
  const int64_t h = g.size(0), w = g.size(1);
  g = g - g.mean();
  auto power = torch::fft::fft2(g).abs().pow(2) / static_cast<double>(h * w);  // [H, W]
  auto fy = torch::fft::fftfreq(h, torch::TensorOptions(torch::kFloat64)).view({h, 1});
  auto fx = torch::fft::fftfreq(w, torch::TensorOptions(torch::kFloat64)).view({1, w});
  auto r = (fy.pow(2) + fx.pow(2)).sqrt();  // [H, W] cycles per pixel
  // Bin k holds radii in (k, k + 1] * 0.5 / bins; the zero frequency and
  // the corners beyond 0.5 are left out.
  auto index = (r * (2.0 * static_cast<double>(bins))).ceil().to(torch::kLong) - 1;  // [H, W]
  auto keep = (r > 0) & (index < bins);
  auto idx = index.masked_select(keep);
  auto sums = torch::zeros({bins}, torch::kFloat64).index_add_(0, idx, power.masked_select(keep));
  auto counts = torch::zeros({bins}, torch::kFloat64).index_add_(0, idx, torch::ones_like(idx, torch::kFloat64));
  auto mean = sums / counts;  // NaN where a bin is empty
  return (mean + 1e-12).log10();
}

double spectrum_distance(const torch::Tensor& a, const torch::Tensor& b, int64_t bins) {
  auto d = radial_log_spectrum(a, bins) - radial_log_spectrum(b, bins);
  auto both = ~torch::isnan(d);
  TORCH_CHECK(both.any().item<bool>(), "spectrum_distance: the images share no frequency bin");
  return d.masked_select(both).pow(2).mean().sqrt().item<double>();
}

double histogram_distance(const torch::Tensor& a, const torch::Tensor& b) {
  auto u = torch::linspace(0, 1, 513, torch::kFloat64);
  auto qa = torch::quantile(texture_grey(a).flatten(), u);
  auto qb = torch::quantile(texture_grey(b).flatten(), u);
  return (qa - qb).abs().mean().item<double>();
}

TextureSimilarity texture_similarity(const torch::Tensor& samples, const torch::Tensor& source, uint64_t seed) {
  TORCH_CHECK(samples.dim() == 4 && samples.size(0) >= 1, "texture_similarity: samples must be [n, C, h, w]");
  TORCH_CHECK(source.dim() == 3, "texture_similarity: the source must be [C, H, W]");
  TextureSimilarity t;
  t.syntheses = samples.size(0);
  const int64_t H = source.size(1), W = source.size(2);
  int64_t h = samples.size(2), w = samples.size(3);
  // Two disjoint crops of h x w must fit in the source for the floor; else
  // compare top-left crops of half the source's height.
  if (!((2 * w <= W && h <= H) || (2 * h <= H && w <= W))) {
    h = std::min(h, H / 2);
    w = std::min(w, W);
    if (h < 2 || w < 2)
      throw Error("texture: the source image (" + std::to_string(H) + " x " + std::to_string(W) +
                  ") is too small to compare syntheses with");
  }
  t.compared_height = h;
  t.compared_width = w;
  std::vector<double> spectra, histograms;
  for (int64_t i = 0; i < samples.size(0); ++i) {
    auto s = samples[i].slice(1, 0, h).slice(2, 0, w);
    spectra.push_back(spectrum_distance(s, source));
    histograms.push_back(histogram_distance(s, source));
  }
  t.spectrum = texture_mean_and_stderr(spectra, &t.spectrum_stderr);
  t.histogram = texture_mean_and_stderr(histograms, &t.histogram_stderr);
  // The floor: two disjoint crops of the source of the compared size
  // (top-left and bottom-right), each scored against the whole source as
  // the syntheses are; the mean of the two.
  auto first = source.slice(1, 0, h).slice(2, 0, w), second = source.slice(1, H - h, H).slice(2, W - w, W);
  t.spectrum_floor = 0.5 * (spectrum_distance(first, source) + spectrum_distance(second, source));
  t.histogram_floor = 0.5 * (histogram_distance(first, source) + histogram_distance(second, source));
  // The ceiling: grey white noise of the source's grey mean and sd.
  auto grey = texture_grey(source);
  auto noise = (grey.mean() + grey.std() * torch::randn({h, w}, derived_generator(seed, 0x7e47),
                                                         torch::TensorOptions(torch::kFloat64)))
                   .clamp(0, 1);
  t.spectrum_noise = spectrum_distance(noise, source);
  t.histogram_noise = histogram_distance(noise, source);
  return t;
}

}  // namespace genzoo
