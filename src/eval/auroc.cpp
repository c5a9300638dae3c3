#include "genzoo/eval/auroc.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <utility>
#include <vector>

#include "genzoo/core/error.h"

namespace genzoo {

namespace {

std::vector<double> to_vector(const torch::Tensor& scores, const char* name) {
  if (!scores.defined() || scores.dim() != 1 || scores.numel() == 0)
    throw Error(std::string("roc_scores: ") + name + " must be a non-empty score vector [N], got " +
                (scores.defined() ? c10::str(scores.sizes()) : std::string("undefined")));
  auto s = scores.detach().to(torch::kFloat64).contiguous();  // [N]
  std::vector<double> v(s.data_ptr<double>(), s.data_ptr<double>() + s.numel());
  for (double x : v)
    if (!std::isfinite(x))
      throw Error(std::string("roc_scores: ") + name + " contains a non-finite score");
  return v;
}

// Mann-Whitney: AUROC = P(in > out) + 1/2 P(in = out) over all (in, out)
// pairs, the same number as the rank-sum formula with average ranks for ties
// (Hanley & McNeil 1982). One pass over the scores sorted ascending, a tie
// group at a time: each in-score of the group beats every out-score below the
// group and ties the group's out-scores. Counted as 2U in integers, so exact.
double mann_whitney_auroc(const std::vector<double>& in, const std::vector<double>& out) {
  std::vector<std::pair<double, bool>> all;  // (score, is_in)
  all.reserve(in.size() + out.size());
  for (double s : in) all.emplace_back(s, true);
  for (double s : out) all.emplace_back(s, false);
  std::sort(all.begin(), all.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  int64_t twice_u = 0, out_below = 0;
  for (size_t i = 0; i < all.size();) {
    size_t j = i;
    int64_t in_group = 0, out_group = 0;
    for (; j < all.size() && all[j].first == all[i].first; ++j) (all[j].second ? in_group : out_group)++;
    twice_u += in_group * (2 * out_below + out_group);
    out_below += out_group;
    i = j;
  }
  return static_cast<double>(twice_u) /
         (2.0 * static_cast<double>(in.size()) * static_cast<double>(out.size()));
}

// FPR at 95% TPR, in-distribution = positive, "positive" meaning score >= t.
// t is the largest threshold whose TPR = #{in >= t} / N is at least 0.95,
// i.e. the c-th largest in-score with c = ceil(0.95 N) (any larger t keeps at
// most c - 1 < 0.95 N in-scores); FPR = #{out >= t} / M. Ties at t count as
// positives on both sides. c is computed in integers so 0.95 N never rounds.
double fpr_at_95_tpr(std::vector<double> in, const std::vector<double>& out) {
  const int64_t n = static_cast<int64_t>(in.size());
  const int64_t c = (95 * n + 99) / 100;  // ceil(0.95 n), >= 1 for n >= 1
  std::nth_element(in.begin(), in.begin() + (c - 1), in.end(), std::greater<double>());
  const double t = in[static_cast<size_t>(c - 1)];
  const auto false_pos = std::count_if(out.begin(), out.end(), [t](double s) { return s >= t; });
  return static_cast<double>(false_pos) / static_cast<double>(out.size());
}

}  // namespace

RocResult roc_scores(const torch::Tensor& scores_in, const torch::Tensor& scores_out) {
  torch::NoGradGuard no_grad;
  auto in = to_vector(scores_in, "scores_in");
  auto out = to_vector(scores_out, "scores_out");
  RocResult r;
  r.in_count = static_cast<int64_t>(in.size());
  r.out_count = static_cast<int64_t>(out.size());
  r.auroc = mann_whitney_auroc(in, out);
  r.fpr_at_95_tpr = fpr_at_95_tpr(std::move(in), out);
  return r;
}

}  // namespace genzoo
