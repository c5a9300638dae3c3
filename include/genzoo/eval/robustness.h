#pragma once
// Robustness of a classifier to adversarial perturbations: projected
// gradient descent (Madry et al. 2018) in the L∞ ball of radius ε around
// each image, inside the data range [0, 1],
//   x⁰ = x,  xᵗ⁺¹ = Π_{‖x' − x‖∞ ≤ ε, x' ∈ [0,1]} (xᵗ + α · sign ∇ₓ CE(logits(xᵗ), y)),
// and the accuracy on the perturbed images. IGEBM reports that a
// conditional EBM, classifying by argmin_y E(x, y), degrades more
// gracefully under this attack than a softmax classifier (Du & Mordatch
// 2019, sec. 4.5).
#include <torch/torch.h>

#include <functional>
#include <vector>

namespace genzoo {

using LogitsFunction = std::function<torch::Tensor(const torch::Tensor& x)>;

struct PgdOptions {
  TORCH_ARG(double, epsilon) = 0.1;
  /// Gradient-sign steps.
  TORCH_ARG(int64_t, steps) = 20;
  /// α; 0 = 2.5 ε / steps (reaches the ball's boundary from the centre).
  TORCH_ARG(double, step_size) = 0.0;
};

/// The perturbed images [N, ...] (detached) for images x in [0, 1] with
/// labels y int64 [N]; gradients with respect to x only.
torch::Tensor pgd_attack(const LogitsFunction& logits, const torch::Tensor& x, const torch::Tensor& y,
                         const PgdOptions& options);

struct RobustAccuracy {
  double epsilon = 0, accuracy = 0, stderr_ = 0;
};

/// Accuracy on x [N, ...], y [N] after pgd_attack at each ε (ε = 0: the
/// clean accuracy), in batches of `batch`.
std::vector<RobustAccuracy> robust_accuracy(const LogitsFunction& logits, const torch::Tensor& x,
                                            const torch::Tensor& y, const std::vector<double>& epsilons,
                                            int64_t steps, int64_t batch = 200);

}  // namespace genzoo
