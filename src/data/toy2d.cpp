#include "genzoo/data/toy2d.h"

#include <cmath>

#include "genzoo/core/error.h"

namespace genzoo {

namespace {

constexpr double kPi = 3.14159265358979323846;

constexpr double kRingRadius = 2.0;
constexpr double kRingSigma = 0.02;
constexpr double kGridSigma = 0.05;
constexpr double kMoonsNoise = 0.1;
constexpr double kSwissNoise = 0.25;

// Checkerboard: the square [-4, 4)^2 cut into 4x4 cells of side 2. Cell
// (i, j) = (floor((x + 4) / 2), floor((y + 4) / 2)), i, j in 0..3, is dark
// when i + j is even, so the bottom-left cell [-4,-2)x[-4,-2) is dark and the
// 8 dark cells cover area 32: density 1/32 there, 0 (log: -inf) elsewhere.
constexpr double kBoardHalf = 4.0;
constexpr double kCell = 2.0;

void check_name(const std::string& name) {
  if (!is_toy2d(name))
    throw Error("unknown toy 2-D distribution '" + name + "' (choose from " +
                join(toy2d_names()) + ")");
}

void check_points(const torch::Tensor& x) {
  TORCH_CHECK(x.defined() && x.dim() == 2 && x.size(1) == 2 && x.is_floating_point(),
              "toy2d: expected floating points [N, 2], got ",
              x.defined() ? x.sizes() : torch::IntArrayRef{});
}

// Centres of the equal-weight Gaussian mixtures, double [M, 2].
torch::Tensor mixture_modes(const std::string& name) {
  if (name == "ring8") {
    auto angle = torch::arange(8, torch::kFloat64) * (2 * kPi / 8);  // [8]
    return torch::stack({angle.cos(), angle.sin()}, 1) * kRingRadius;  // [8, 2]
  }
  if (name == "grid25") {
    auto v = torch::arange(-4, 5, 2, torch::kFloat64);  // [5]: -4 -2 0 2 4
    auto grid = torch::meshgrid({v, v}, "ij");        // mode i*5+j = (v[i], v[j])
    return torch::stack({grid[0].reshape(-1), grid[1].reshape(-1)}, 1);  // [25, 2]
  }
  check_name(name);
  throw Error("toy 2-D distribution '" + name + "' is not a Gaussian mixture (ring8 and grid25 are)");
}

double mixture_sigma(const std::string& name) {
  if (name == "ring8") return kRingSigma;
  if (name == "grid25") return kGridSigma;
  mixture_modes(name);  // throws the right message
  return 0;
}

torch::Tensor sample_mixture(const std::string& name, int64_t n, const torch::Generator& gen) {
  auto modes = mixture_modes(name).to(torch::kFloat32);                  // [M, 2]
  auto which = torch::randint(modes.size(0), {n}, gen, torch::kLong);    // [n]
  auto noise = torch::randn({n, 2}, gen, torch::kFloat32);               // [n, 2]
  return modes.index_select(0, which) + noise * mixture_sigma(name);     // [n, 2]
}

// log p(x) = logsumexp_k [ -log M - log(2 pi sigma^2) - |x - mu_k|^2 / (2 sigma^2) ]
torch::Tensor mixture_log_density(const std::string& name, const torch::Tensor& x) {
  auto modes = mixture_modes(name);                                // [M, 2]
  const double sigma = mixture_sigma(name);
  auto xd = x.to(torch::kFloat64);                                 // [N, 2]
  auto sq = (xd.unsqueeze(1) - modes.unsqueeze(0)).pow(2).sum(2);  // [N, M]
  const double log_norm = -std::log(static_cast<double>(modes.size(0))) -
                          std::log(2 * kPi * sigma * sigma);
  return torch::logsumexp(log_norm - sq / (2 * sigma * sigma), 1);  // [N]
}

torch::Tensor sample_checkerboard(int64_t n, const torch::Generator& gen) {
  // Pick one of the 8 dark cells (i, j) with i + j even, then a uniform point in it.
  auto row = torch::randint(4, {n}, gen, torch::kLong);           // i  [n]
  auto half = torch::randint(2, {n}, gen, torch::kLong);          // [n]
  auto col = 2 * half + row.remainder(2);                         // j: same parity as i
  auto u = torch::rand({n, 2}, gen, torch::kFloat32);             // [n, 2]
  auto cell = torch::stack({row, col}, 1).to(torch::kFloat32);    // [n, 2]
  return (cell + u) * kCell - kBoardHalf;                         // [n, 2]
}

torch::Tensor checkerboard_log_density(const torch::Tensor& x) {
  auto xd = x.to(torch::kFloat64);                                       // [N, 2]
  auto inside = ((xd >= -kBoardHalf) & (xd < kBoardHalf)).all(1);       // [N]
  auto cell = torch::floor((xd + kBoardHalf) / kCell).to(torch::kLong);  // [N, 2]
  auto dark = inside & (cell.sum(1).remainder(2) == 0);                   // [N]
  return torch::where(dark, torch::full_like(dark, -std::log(32.0), torch::kFloat64),
                      torch::full_like(dark, -INFINITY, torch::kFloat64));  // [N]
}

// scikit-learn's make_moons with a uniform angle: the upper half circle
// (cos t, sin t) and the lower one (1 - cos t, 1/2 - sin t), t ~ U[0, pi].
torch::Tensor sample_moons(int64_t n, const torch::Generator& gen) {
  auto t = torch::rand({n}, gen, torch::kFloat32) * kPi;             // [n]
  auto lower = torch::randint(2, {n}, gen, torch::kFloat32);         // [n] 0 upper, 1 lower
  auto sign = 1 - 2 * lower;                                         // [n] +1 / -1
  auto x = lower + sign * t.cos();                                   // [n]
  auto y = sign * t.sin() + 0.5 * lower;                             // [n]
  auto noise = torch::randn({n, 2}, gen, torch::kFloat32) * kMoonsNoise;
  return torch::stack({x, y}, 1) + noise;                            // [n, 2]
}

// The 2-D swiss roll of scikit-learn's make_swiss_roll (coordinates 0 and 2):
// t ~ U[1.5 pi, 4.5 pi], (t cos t, t sin t), scaled so the outer end has radius 4.
torch::Tensor sample_swissroll(int64_t n, const torch::Generator& gen) {
  const double t_max = 4.5 * kPi;
  auto t = (1 + 2 * torch::rand({n}, gen, torch::kFloat32)) * (1.5 * kPi);  // [n]
  auto roll = torch::stack({t * t.cos(), t * t.sin()}, 1) * (4.0 / t_max);   // [n, 2]
  return roll + torch::randn({n, 2}, gen, torch::kFloat32) * kSwissNoise;   // [n, 2]
}

}  // namespace

std::vector<std::string> toy2d_names() { return {"ring8", "grid25", "moons", "swissroll", "checkerboard"}; }

bool is_toy2d(const std::string& name) {
  for (const auto& n : toy2d_names())
    if (n == name) return true;
  return false;
}

torch::Tensor toy2d_sample(const std::string& name, int64_t n, torch::Generator gen) {
  check_name(name);
  TORCH_CHECK(n >= 0, "toy2d_sample: n must be >= 0, got ", n);
  if (name == "ring8" || name == "grid25") return sample_mixture(name, n, gen);
  if (name == "checkerboard") return sample_checkerboard(n, gen);
  if (name == "moons") return sample_moons(n, gen);
  return sample_swissroll(n, gen);
}

bool toy2d_has_density(const std::string& name) {
  check_name(name);
  return name == "ring8" || name == "grid25" || name == "checkerboard";
}

torch::Tensor toy2d_log_density(const std::string& name, const torch::Tensor& x) {
  if (!toy2d_has_density(name))
    throw Error("toy 2-D distribution '" + name +
                "' has no closed-form density (ring8, grid25 and checkerboard do)");
  check_points(x);
  auto log_p = name == "checkerboard" ? checkerboard_log_density(x) : mixture_log_density(name, x);
  return log_p.to(x.scalar_type());  // [N]
}

torch::Tensor toy2d_modes(const std::string& name) {
  return mixture_modes(name).to(torch::kFloat32);  // [M, 2]
}

double toy2d_sigma(const std::string& name) { return mixture_sigma(name); }

}  // namespace genzoo
