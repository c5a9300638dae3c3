#include "genzoo/eval/classifier_score.h"

#include <cmath>

#include "genzoo/core/error.h"

namespace genzoo {

namespace {

// Row sums may differ from 1 by float round-off of a softmax; anything further
// off is not a probability table (logits or log-probabilities passed by mistake).
constexpr double kRowSumTolerance = 1e-3;

// exp( mean_x KL(p(y|x) || p(y)) ) on one part p [n, K], p(y) the part's mean.
// xlogy gives 0 log 0 = 0 for the zero entries of a confident classifier;
// p(y) > 0 wherever some p(y|x) > 0, so the second term never meets log 0.
double part_score(const torch::Tensor& p) {
  auto py = p.mean(0, /*keepdim=*/true);                             // [1, K]
  auto kl = (torch::xlogy(p, p) - torch::xlogy(p, py)).sum(1);       // [n]
  return std::exp(kl.mean().item<double>());
}

}  // namespace

ClassifierScore classifier_score(const torch::Tensor& probs, int64_t splits) {
  if (!probs.defined() || probs.dim() != 2 || probs.size(0) == 0 || probs.size(1) == 0)
    throw Error("classifier_score: probs must be [N, K] with N, K >= 1, got " +
                (probs.defined() ? c10::str(probs.sizes()) : std::string("undefined")));
  const int64_t n = probs.size(0);
  if (splits < 1 || splits > n)
    throw Error(c10::str("classifier_score: splits must be in 1..N = ", n, ", got ", splits));
  torch::NoGradGuard no_grad;
  auto p = probs.to(torch::kFloat64);  // [N, K]
  if (!torch::isfinite(p).all().item<bool>() || (p < 0).any().item<bool>() ||
      ((p.sum(1) - 1).abs() > kRowSumTolerance).any().item<bool>())
    throw Error(
        "classifier_score: probs rows must be finite, >= 0 and sum to 1 (apply softmax to logits)");

  // Parts are contiguous with boundaries floor(i N / splits), i = 0..splits:
  // every example is used and part sizes differ by at most one (the split of
  // Salimans et al.'s reference code).
  auto scores = torch::empty({splits}, torch::kFloat64);  // [splits]
  for (int64_t i = 0; i < splits; ++i)
    scores[i] = part_score(p.slice(0, i * n / splits, (i + 1) * n / splits));

  ClassifierScore out;
  out.splits = splits;
  out.count = n;
  out.mean = scores.mean().item<double>();
  // Divisor `splits` (numpy's default, as the reference code reports it).
  out.std = scores.std(/*unbiased=*/false).item<double>();
  return out;
}

}  // namespace genzoo
