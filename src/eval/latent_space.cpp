#include "genzoo/eval/latent_space.h"

#include <cmath>

#include "genzoo/core/error.h"

namespace genzoo {

namespace {
torch::Tensor fractions(int64_t steps, const torch::Tensor& like) {
  TORCH_CHECK(steps >= 2, "interpolation needs at least 2 steps, got ", steps);
  return torch::linspace(0, 1, steps, like.options()).unsqueeze(1);  // [steps, 1]
}
}  // namespace

torch::Tensor interpolate_linear(const torch::Tensor& a, const torch::Tensor& b, int64_t steps) {
  TORCH_CHECK(a.dim() == 1 && a.sizes() == b.sizes(), "interpolate: a and b must be [Z] of one size");
  auto t = fractions(steps, a);
  return (1 - t) * a.unsqueeze(0) + t * b.unsqueeze(0);
}

torch::Tensor interpolate_spherical(const torch::Tensor& a, const torch::Tensor& b, int64_t steps) {
  TORCH_CHECK(a.dim() == 1 && a.sizes() == b.sizes(), "interpolate: a and b must be [Z] of one size");
  auto t = fractions(steps, a);
  const double cos_w = (torch::dot(a, b) / (a.norm() * b.norm()).clamp_min(1e-12)).item<double>();
  const double w = std::acos(std::max(-1.0, std::min(1.0, cos_w)));
  if (std::sin(w) < 1e-6) return interpolate_linear(a, b, steps);
  return (torch::sin((1 - t) * w) * a.unsqueeze(0) + torch::sin(t * w) * b.unsqueeze(0)) / std::sin(w);
}

torch::Tensor prior_grid_2d(int64_t side) {
  TORCH_CHECK(side >= 2, "the grid needs at least 2 points a side, got ", side);
  auto u = (torch::arange(side, torch::kFloat64) + 0.5) / side;  // cell centres in (0, 1)
  auto z = std::sqrt(2.0) * torch::erfinv(2 * u - 1);            // Phi^-1(u)
  auto grid = torch::meshgrid({z, z}, "ij");
  return torch::stack({grid[0].flatten(), grid[1].flatten()}, 1).to(torch::kFloat32);  // [side^2, 2]
}

torch::Tensor class_means(const torch::Tensor& codes, const torch::Tensor& labels, int64_t classes) {
  TORCH_CHECK(codes.dim() == 2 && labels.dim() == 1 && labels.size(0) == codes.size(0),
              "class_means: codes [N, Z] and labels [N]");
  auto out = torch::zeros({classes, codes.size(1)}, codes.options());
  for (int64_t k = 0; k < classes; ++k) {
    auto rows = (labels == k).nonzero().squeeze(1);
    if (rows.size(0) == 0) throw Error("class " + std::to_string(k) + " has no example to average");
    out[k] = codes.index_select(0, rows).mean(0);
  }
  return out;
}

ProbeResult linear_probe(const torch::Tensor& train_x, const torch::Tensor& train_y, const torch::Tensor& test_x,
                         const torch::Tensor& test_y, int64_t classes, int64_t iterations, double l2) {
  TORCH_CHECK(train_x.dim() == 2 && test_x.dim() == 2 && train_x.size(1) == test_x.size(1),
              "linear_probe: features [N, F] with the same F");
  TORCH_CHECK(train_y.size(0) == train_x.size(0) && test_y.size(0) == test_x.size(0), "linear_probe: one label per row");
  torch::NoGradGuard outer;
  auto mean = train_x.mean(0), sd = train_x.std(0).clamp_min(1e-6);
  auto xs = ((train_x - mean) / sd).to(torch::kFloat64), xt = ((test_x - mean) / sd).to(torch::kFloat64);
  const int64_t f = xs.size(1);
  auto w = torch::zeros({f, classes}, torch::kFloat64).requires_grad_(true);
  auto b = torch::zeros({classes}, torch::kFloat64).requires_grad_(true);
  torch::optim::LBFGS opt({w, b}, torch::optim::LBFGSOptions(1).max_iter(iterations).line_search_fn("strong_wolfe"));
  auto closure = [&] {
    torch::AutoGradMode enable(true);
    opt.zero_grad();
    auto loss = torch::cross_entropy_loss(torch::addmm(b, xs, w), train_y) + l2 * w.pow(2).sum();
    loss.backward();
    return loss;
  };
  {
    torch::AutoGradMode enable(true);
    opt.step(closure);
  }
  auto accuracy = [&](const torch::Tensor& x, const torch::Tensor& y) {
    return (torch::addmm(b, x, w).argmax(1) == y).to(torch::kFloat64).mean().item<double>();
  };
  ProbeResult r;
  r.train_accuracy = accuracy(xs, train_y);
  r.test_accuracy = accuracy(xt, test_y);
  r.features = f;
  r.train_count = xs.size(0);
  r.test_count = xt.size(0);
  return r;
}

}  // namespace genzoo
