#include "genzoo/eval/neighbours.h"

#include <algorithm>

#include "genzoo/core/error.h"

namespace genzoo {

namespace {

// Reference rows prepared once for many query blocks: centred on their mean,
// with their squared norms.
struct CentredReference {
  torch::Tensor centre;  // [1, D]
  torch::Tensor rows;    // [M, D], centred
  torch::Tensor norms;   // [1, M]
};

CentredReference centre_reference(const torch::Tensor& bd) {  // bd double [M, D]
  CentredReference r;
  r.centre = bd.size(0) > 0 ? bd.mean(0, /*keepdim=*/true) : torch::zeros({1, bd.size(1)}, bd.options());
  r.rows = bd - r.centre;
  r.norms = r.rows.pow(2).sum(1).unsqueeze(0);
  return r;
}

// |a - b|^2 = |a|^2 + |b|^2 - 2 a.b costs one [N, D] x [D, M] product instead of
// an [N, M, D] difference tensor. Centring first keeps |a|^2 and |b|^2 small
// when the features share a large offset (all-positive ReLU features), so the
// subtraction loses fewer digits.
torch::Tensor squared_distances_to(const torch::Tensor& ad, const CentredReference& r) {  // ad double [N, D]
  auto a = ad - r.centre;                       // [N, D]
  auto a2 = a.pow(2).sum(1, /*keepdim=*/true);  // [N, 1]
  return torch::addmm(a2 + r.norms, a, r.rows.t(), /*beta=*/1, /*alpha=*/-2).clamp_min_(0);  // [N, M]
}

}  // namespace

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
  return squared_distances_to(ad, centre_reference(bd));
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
  if (q.size(1) != ref.size(1))
    throw Error(c10::str("nearest_neighbours: rows have ", q.size(1), " and ", ref.size(1),
                         " values; they must match"));
  const CentredReference prepared = centre_reference(ref);  // once, not per block
  for (int64_t i = 0; i < n; i += block) {
    const int64_t end = std::min(i + block, n);
    auto sq = squared_distances_to(q.slice(0, i, end), prepared);  // [b, M]
    // topk on the squared distances (same order as the distances), sorted so
    // column 0 is the nearest; the sqrt is taken on k values only.
    auto [values, indices] = sq.topk(k, /*dim=*/1, /*largest=*/false, /*sorted=*/true);  // [b, k]
    out.distances.slice(0, i, end).copy_(values.sqrt());
    out.indices.slice(0, i, end).copy_(indices);
  }
  return out;
}

}  // namespace genzoo
