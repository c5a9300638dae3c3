#pragma once
// Toy 2-D distributions with known structure, for mode-coverage and density
// checks. Points are float [N, 2].
//   ring8        8 Gaussians, radius 2, sigma 0.02, equal weights     (density: exact)
//   grid25       25 Gaussians at {-4,-2,0,2,4}^2, sigma 0.05          (density: exact)
//   checkerboard uniform on the 8 dark squares of a 4x4 board on [-4,4]^2 (density: exact)
//   moons        two interleaved half circles + N(0, 0.1^2) noise     (no closed form)
//   swissroll    a 2-D swiss roll + N(0, 0.25^2) noise, scaled to ~[-4,4] (no closed form)
#include <torch/torch.h>

#include <string>
#include <vector>

namespace genzoo {

std::vector<std::string> toy2d_names();
bool is_toy2d(const std::string& name);

/// n points, float [n, 2], drawn with `gen`.
torch::Tensor toy2d_sample(const std::string& name, int64_t n, torch::Generator gen);

bool toy2d_has_density(const std::string& name);

/// Exact log density (nats) at x float [N, 2] -> [N]. genzoo::Error for a
/// distribution without a closed form.
torch::Tensor toy2d_log_density(const std::string& name, const torch::Tensor& x);

/// Mixture centres [M, 2] and the common sigma, for ring8 and grid25;
/// genzoo::Error for the others.
torch::Tensor toy2d_modes(const std::string& name);
double toy2d_sigma(const std::string& name);

}  // namespace genzoo
