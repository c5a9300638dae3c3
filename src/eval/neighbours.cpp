#include "genzoo/eval/neighbours.h"

#include <algorithm>

#include "genzoo/core/error.h"

namespace genzoo {

torch::Tensor squared_distances(const torch::Tensor& a, const torch::Tensor& b) {
  if (!a.defined() || !b.defined() || a.dim() < 2 || b.dim() < 2)
    throw Error("squared_distances: expected rows [N, ...] and [M, ...], got " +
                (a.defined() ? c10::str(a.sizes()) : std::string("undefined")) + " and " +
                (b.defined() ? c10::str(b.sizes()) : std::string("undefined")));
  auto bd = b.flatten(1).to(torch::kFloat64);  // [M, D]
  auto ad = a.flatten(1).to(torch::kFloat64);  // [N, D]
  if (ad.size(1) != bd.size(1))
    throw Error(c10::str("squared_distances: rows have ", ad.size(1), " and ", bd.size(1),
                         " values; they must match"));
  // |a - b|^2 = |a|^2 + |b|^2 - 2 a.b costs one [N, D] x [D, M] product instead of
  // an [N, M, D] difference tensor. Centring first keeps |a|^2 and |b|^2 small
  // when the features share a large offset (all-positive ReLU features), so the
  // subtraction loses fewer digits.
  if (bd.size(0) > 0) {
    auto centre = bd.mean(0, /*keepdim=*/true);  // [1, D]
    ad = ad - centre;
    bd = bd - centre;
  }
  auto a2 = ad.pow(2).sum(1, /*keepdim=*/true);  // [N, 1]
  auto b2 = bd.pow(2).sum(1).unsqueeze(0);       // [1, M]
  return torch::addmm(a2 + b2, ad, bd.t(), /*beta=*/1, /*alpha=*/-2).clamp_min_(0);  // [N, M]
}

Neighbours nearest_neighbours(const torch::Tensor& queries, const torch::Tensor& reference,
                              int64_t k, int64_t block) {
  if (!queries.defined() || !reference.defined() || queries.dim() < 2 || reference.dim() < 2)
    throw Error("nearest_neighbours: expected queries [N, ...] and reference [M, ...]");
  const int64_t n = queries.size(0), m = reference.size(0);
  if (k < 1 || k > m)
    throw Error(c10::str("nearest_neighbours: k must be in 1..", m,
                         " (the reference size), got ", k));
  if (block < 1) throw Error(c10::str("nearest_neighbours: block must be >= 1, got ", block));
  torch::NoGradGuard no_grad;
  auto ref = reference.flatten(1).to(torch::kFloat64);  // [M, D], converted once for all blocks
  auto q = queries.flatten(1).to(torch::kFloat64);      // [N, D]
  if (!torch::isfinite(q).all().item<bool>() || !torch::isfinite(ref).all().item<bool>())
    throw Error("nearest_neighbours: queries and reference must be finite");

  Neighbours out;
  out.indices = torch::empty({n, k}, torch::kLong);        // [N, k]
  out.distances = torch::empty({n, k}, torch::kFloat64);   // [N, k]
  for (int64_t i = 0; i < n; i += block) {
    const int64_t end = std::min(i + block, n);
    auto sq = squared_distances(q.slice(0, i, end), ref);  // [b, M]
    // topk on the squared distances (same order as the distances), sorted so
    // column 0 is the nearest; the sqrt is taken on k values only.
    auto [values, indices] = sq.topk(k, /*dim=*/1, /*largest=*/false, /*sorted=*/true);  // [b, k]
    out.distances.slice(0, i, end).copy_(values.sqrt());
    out.indices.slice(0, i, end).copy_(indices);
  }
  return out;
}

}  // namespace genzoo
