#pragma once
// Test log-likelihood and bits per dimension, the one place they are derived.
//   discrete pixels ({0,1} or 256 levels):  bits/dim = NLL / (D ln 2)
//   continuous density on dequantised pixels y = (x + u)/256 in [0,1):
//                                            bits/dim = (NLL / D + ln 256) / ln 2
// where NLL is in nats per example and D the number of dimensions.
#include <torch/torch.h>

#include "genzoo/models/model.h"

namespace genzoo {

struct LikelihoodResult {
  double nll_nats = 0;    // mean -log p(x), nats per example
  double nll_stderr = 0;  // standard error of that mean
  double bits_per_dim = 0;
  int64_t examples = 0;
  bool bound = false;     // true when the model gives a lower bound on log p
};

double bits_per_dim(double nll_nats, int64_t dims, bool dequantized);

/// Evaluates -log p over `data` [N, ...] in batches, without gradients.
LikelihoodResult evaluate_likelihood(Density& model, const torch::Tensor& data,
                                     int64_t batch_size = 1000, bool dequantized = false);

}  // namespace genzoo
