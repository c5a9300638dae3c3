#pragma once
// Tools for looking into a latent space (used by `genzoo latent`): paths
// between codes, a grid over a 2-D prior, class means for latent arithmetic,
// and a linear probe of what a code knows about the labels.
#include <torch/torch.h>

namespace genzoo {

/// `steps` points from a to b, both [Z], inclusive: [steps, Z].
///   linear     (1 - t) a + t b
///   spherical  sin((1 - t) w) / sin w * a + sin(t w) / sin w * b, w the angle
///              between a and b (Shoemake 1985; White 2016 recommends it for
///              Gaussian latents, whose mass lies near a sphere); linear when
///              a and b are (anti)parallel
torch::Tensor interpolate_linear(const torch::Tensor& a, const torch::Tensor& b, int64_t steps);
torch::Tensor interpolate_spherical(const torch::Tensor& a, const torch::Tensor& b, int64_t steps);

/// The codes of a `side` x `side` grid over a 2-D standard normal prior:
/// z = Phi^-1(u) for u on (0, 1)^2 at the centres of the grid's cells, as in
/// Kingma & Welling 2014, fig. 4. Row-major, the first coordinate down the
/// rows: [side * side, 2].
torch::Tensor prior_grid_2d(int64_t side);

/// The mean code of each class: codes [N, Z], labels int64 [N] in [0, K):
/// [K, Z]; a class with no example is a genzoo::Error.
torch::Tensor class_means(const torch::Tensor& codes, const torch::Tensor& labels, int64_t classes);

struct ProbeResult {
  double train_accuracy = 0, test_accuracy = 0;
  int64_t features = 0, train_count = 0, test_count = 0;
};

/// A multinomial logistic regression on standardised features (mean and
/// deviation of the training features), fitted by full-batch L-BFGS with a
/// small L2 penalty, scored by accuracy: how linearly a representation
/// separates the classes (the linear-probe protocol).
ProbeResult linear_probe(const torch::Tensor& train_features, const torch::Tensor& train_labels,
                         const torch::Tensor& test_features, const torch::Tensor& test_labels, int64_t classes,
                         int64_t iterations = 200, double l2 = 1e-4);

}  // namespace genzoo
