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

/// -log p(x_n) for every row of `data` [N, ...], in batches of
/// `batch_size`, without gradients: double [N], nats.
torch::Tensor per_example_nll(Density& model, const torch::Tensor& data, int64_t batch_size = 1000);

/// Evaluates -log p over `data` [N, ...] in batches, without gradients:
/// the mean of per_example_nll and its standard error sd / sqrt(N) (sd with
/// divisor N - 1).
LikelihoodResult evaluate_likelihood(Density& model, const torch::Tensor& data,
                                     int64_t batch_size = 1000, bool dequantized = false);

/// The difference of two models' mean NLL on the same examples, with the
/// paired standard error: d_n = a_n - b_n, mean(d) and sd(d) / sqrt(N).
/// Far smaller than either score's own standard error when the two models
/// find the same examples hard (the between-example spread cancels).
struct PairedDifference {
  double mean = 0, stderr_mean = 0;
  int64_t examples = 0;
};
PairedDifference paired_difference(const torch::Tensor& a, const torch::Tensor& b);

}  // namespace genzoo
