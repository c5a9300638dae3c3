#include "genzoo/eval/precision_recall.h"

#include "checked_features.h"

#include <algorithm>

#include "genzoo/core/error.h"
#include "genzoo/eval/neighbours.h"

namespace genzoo {

namespace {


// Share of the rows of `points` [M, F] that lie in at least one ball
// (centre[j], radius[j]) of `centres` [N, F], radius [N]: Kynkäänniemi et al.
// 2019, eq. 1, f(phi, Phi) = 1 iff |phi - phi'| <= NN_k(phi') for some phi'.
double share_inside(const torch::Tensor& points, const torch::Tensor& centres,
                    const torch::Tensor& radius, int64_t block) {
  const int64_t m = points.size(0);
  auto r = radius.unsqueeze(0);  // [1, N]
  int64_t inside = 0;
  for (int64_t i = 0; i < m; i += block) {
    auto d = squared_distances(points.slice(0, i, std::min(i + block, m)), centres).sqrt();  // [b, N]
    inside += (d <= r).any(1).sum().item<int64_t>();
  }
  return static_cast<double>(inside) / static_cast<double>(m);
}

}  // namespace

torch::Tensor kth_neighbour_radius(const torch::Tensor& x, int64_t k, int64_t block) {
  if (!x.defined() || x.dim() != 2)
    throw Error("kth_neighbour_radius: x must be [N, F], got " +
                (x.defined() ? c10::str(x.sizes()) : std::string("undefined")));
  if (k < 1 || k >= x.size(0))
    throw Error(c10::str("kth_neighbour_radius: k must be in 1..N-1 = ", x.size(0) - 1, ", got ", k));
  // The k+1 nearest rows include the row itself (distance 0) first, so the
  // k-th other row is column k. With duplicate rows the self may not be the
  // row found first, but the sorted distances are the same multiset either way.
  return nearest_neighbours(x, x, k + 1, block).distances.select(1, k).contiguous();  // [N]
}

PrecisionRecall precision_recall(const torch::Tensor& real, const torch::Tensor& fake, int64_t k,
                                 int64_t block) {
  torch::NoGradGuard no_grad;
  auto r = detail::checked_features(real, "precision_recall: real", 1);  // [N, F]
  auto f = detail::checked_features(fake, "precision_recall: fake", 1);  // [M, F]
  if (r.size(1) != f.size(1))
    throw Error(c10::str("precision_recall: real has ", r.size(1), " features and fake ", f.size(1),
                         "; they must match"));
  if (k < 1 || k >= std::min(r.size(0), f.size(0)))
    throw Error(c10::str("precision_recall: k must be in 1..min(N, M)-1 = ",
                         std::min(r.size(0), f.size(0)) - 1, ", got ", k));
  if (block < 1) throw Error(c10::str("precision_recall: block must be >= 1, got ", block));

  PrecisionRecall out;
  out.k = k;
  out.real_count = r.size(0);
  out.fake_count = f.size(0);
  out.precision = share_inside(f, r, kth_neighbour_radius(r, k, block), block);
  out.recall = share_inside(r, f, kth_neighbour_radius(f, k, block), block);
  return out;
}

}  // namespace genzoo
