#include "genzoo/eval/ms_ssim.h"

#include <cmath>
#include <vector>

#include "genzoo/core/rng.h"

namespace genzoo {

namespace {

const double kWangWeights[5] = {0.0448, 0.2856, 0.3001, 0.2363, 0.1333};

// The normalised Gaussian window as a depthwise kernel [C, 1, w, w] (double).
torch::Tensor gaussian_window(int64_t w, double sigma, int64_t channels) {
  auto r = torch::arange(w, torch::kFloat64) - (w - 1) / 2.0;
  auto g = torch::exp(-r.pow(2) / (2 * sigma * sigma));
  g = g / g.sum();
  return torch::outer(g, g).expand({channels, 1, w, w}).contiguous();
}

// (mean over positions of the cs map, mean of the l * cs map) per pair: [N] each.
std::pair<torch::Tensor, torch::Tensor> ssim_terms(const torch::Tensor& x, const torch::Tensor& y,
                                                   const torch::Tensor& window, double c1, double c2) {
  const int64_t channels = x.size(1);
  auto blur = [&](const torch::Tensor& t) { const std::vector<int64_t> one{1, 1}, zero{0, 0};
    return torch::conv2d(t, window, torch::Tensor(), one, zero, one, channels); };
  auto mx = blur(x), my = blur(y);
  auto sxx = blur(x * x) - mx * mx, syy = blur(y * y) - my * my, sxy = blur(x * y) - mx * my;
  auto cs = (2 * sxy + c2) / (sxx + syy + c2);
  auto l = (2 * mx * my + c1) / (mx * mx + my * my + c1);
  return {cs.flatten(1).mean(1), (l * cs).flatten(1).mean(1)};
}

}  // namespace

int64_t ms_ssim_scales(int64_t min_side, const MsSsimOptions& o) {
  if (o.scales > 0) return o.scales;
  int64_t scales = 0;
  for (int64_t side = min_side; side >= o.window && scales < 5; side /= 2) ++scales;
  return scales;
}

torch::Tensor ms_ssim(const torch::Tensor& x, const torch::Tensor& y, const MsSsimOptions& o) {
  TORCH_CHECK(x.dim() == 4 && x.sizes() == y.sizes(), "ms_ssim: needs two image batches [N, C, H, W] of one shape, got ",
              x.sizes(), " and ", y.sizes());
  TORCH_CHECK(o.window >= 1 && o.sigma > 0 && o.data_range > 0, "ms_ssim: bad options");
  const int64_t min_side = std::min(x.size(2), x.size(3));
  const int64_t scales = ms_ssim_scales(min_side, o);
  TORCH_CHECK(scales >= 1 && scales <= 5, "ms_ssim: images of side ", min_side, " do not fit ", scales,
              " scales of a ", o.window, "-pixel window");
  TORCH_CHECK((min_side >> (scales - 1)) >= o.window, "ms_ssim: the coarsest of ", scales, " scales of side ",
              min_side, " is smaller than the ", o.window, "-pixel window");
  double total = 0;
  for (int64_t j = 0; j < scales; ++j) total += kWangWeights[j];
  const double c1 = std::pow(0.01 * o.data_range, 2), c2 = std::pow(0.03 * o.data_range, 2);
  auto window = gaussian_window(o.window, o.sigma, x.size(1));
  auto a = x.to(torch::kFloat64), b = y.to(torch::kFloat64);
  auto result = torch::ones({x.size(0)}, torch::kFloat64);
  for (int64_t j = 0; j < scales; ++j) {
    auto [cs, ssim] = ssim_terms(a, b, window, c1, c2);
    const double w = kWangWeights[j] / total;
    result = result * (j + 1 < scales ? cs : ssim).clamp_min(0).pow(w);
    if (j + 1 < scales) {
      a = torch::avg_pool2d(a, 2);
      b = torch::avg_pool2d(b, 2);
    }
  }
  return result;  // [N]
}

PairwiseMsSsim random_pair_ms_ssim(const torch::Tensor& images, int64_t pairs, uint64_t seed, const MsSsimOptions& o) {
  const int64_t n = images.size(0);
  TORCH_CHECK(n >= 2 && pairs >= 1, "random_pair_ms_ssim: needs >= 2 images and >= 1 pair");
  auto gen = derived_generator(seed, 0x55A1);
  auto i = torch::randint(n, {pairs}, gen, torch::kLong);
  // j != i: an offset of 1..n-1 around the ring.
  auto j = (i + torch::randint(1, n, {pairs}, gen, torch::kLong)) % n;
  std::vector<torch::Tensor> parts;
  for (int64_t s = 0; s < pairs; s += 500) {
    const int64_t e = std::min(s + 500, pairs);
    parts.push_back(ms_ssim(images.index_select(0, i.slice(0, s, e)), images.index_select(0, j.slice(0, s, e)), o));
  }
  auto v = torch::cat(parts);  // [pairs]
  PairwiseMsSsim r;
  r.pairs = pairs;
  r.mean = v.mean().item<double>();
  r.stderr_mean = pairs > 1 ? v.std().item<double>() / std::sqrt(static_cast<double>(pairs)) : 0.0;
  return r;
}

}  // namespace genzoo
