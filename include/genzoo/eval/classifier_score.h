#pragma once
// Classifier score, the Inception-Score analog with a domain classifier:
//   CS = exp( E_x KL( p(y|x) || p(y) ) ),  p(y) = E_x p(y|x),
// computed on `splits` equal parts; mean and standard deviation over parts
// (Salimans et al. 2016).
#include <torch/torch.h>

namespace genzoo {

struct ClassifierScore {
  double mean = 0, std = 0;
  int64_t splits = 10, count = 0;
};

/// probs [N, K], rows summing to 1.
ClassifierScore classifier_score(const torch::Tensor& probs, int64_t splits = 10);

}  // namespace genzoo
