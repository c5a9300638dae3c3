#pragma once
// Nearest neighbours by Euclidean distance, exact, in blocks: the
// memorisation check (is a generated image a copy of a training image?).
#include <torch/torch.h>

namespace genzoo {

struct Neighbours {
  torch::Tensor indices;    // int64 [N, k], nearest first
  torch::Tensor distances;  // double [N, k]
};

/// Squared Euclidean distances between the rows of a [N, D] and b [M, D]
/// (rows flattened), double [N, M]: |a|^2 + |b|^2 - 2 a.b, one matrix product,
/// after centring both on b's mean (distances are shift-invariant, and the
/// centring reduces cancellation), clamped at 0 against round-off. The shared
/// building block of the blocked metrics (precision/recall, Parzen, modes).
torch::Tensor squared_distances(const torch::Tensor& a, const torch::Tensor& b);

/// For each row of queries [N, ...] its k nearest rows of reference [M, ...]
/// (rows flattened), computed `block` queries at a time.
Neighbours nearest_neighbours(const torch::Tensor& queries, const torch::Tensor& reference,
                              int64_t k = 1, int64_t block = 256);

}  // namespace genzoo
