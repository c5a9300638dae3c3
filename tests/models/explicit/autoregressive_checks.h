#pragma once
// Checks every autoregressive model in tests/models/explicit must pass: the
// chain rule's promises, tested on images small enough to enumerate.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <functional>

namespace genzoo::testing {

/// Every binary image of size h x w, [2^(h w), 1, h, w] float.
inline torch::Tensor all_binary_images(int64_t h, int64_t w) {
  const int64_t d = h * w, n = int64_t{1} << d;
  auto codes = torch::arange(n, torch::kInt64).unsqueeze(1);  // [2^d, 1]
  auto bits = torch::arange(d, torch::kInt64).unsqueeze(0);   // [1, d]
  return codes.bitwise_right_shift(bits).bitwise_and(1).to(torch::kFloat).reshape({n, 1, h, w});
}

/// sum over all 2^16 images of exp(log p(x)), from log-probabilities summed in double.
inline double total_probability(const std::function<torch::Tensor(const torch::Tensor&)>& log_prob,
                                int64_t h = 4, int64_t w = 4) {
  torch::NoGradGuard no_grad;
  auto lp = log_prob(all_binary_images(h, w)).to(torch::kFloat64);
  return torch::logsumexp(lp, 0).exp().item<double>();
}

/// The autoregressive property by gradients: for one random binary input,
/// d logit_i / d x_j must be exactly zero whenever pixel j is generated at or
/// after pixel i (`rank[j]` = position of pixel j in the order). Also checks
/// that the gradient is not zero everywhere, so the test can fail.
inline void expect_autoregressive(const std::function<torch::Tensor(const torch::Tensor&)>& logits_of,
                                  const torch::Tensor& rank, int64_t h = 4, int64_t w = 4) {
  const int64_t d = h * w;
  auto x = torch::bernoulli(torch::full({1, 1, h, w}, 0.5)).requires_grad_(true);
  auto logits = logits_of(x);  // [1, d]
  ASSERT_EQ(logits.sizes(), (std::vector<int64_t>{1, d}));
  auto r = rank.to(torch::kInt64);
  int64_t nonzero_before = 0;
  for (int64_t i = 0; i < d; ++i) {
    auto g = torch::autograd::grad({logits[0][i]}, {x}, {}, /*retain_graph=*/true, false,
                                   /*allow_unused=*/true)[0];
    if (!g.defined()) g = torch::zeros_like(x);
    auto gf = g.reshape({d});
    for (int64_t j = 0; j < d; ++j) {
      const double gij = gf[j].item<double>();
      if (r[j].item<int64_t>() >= r[i].item<int64_t>())
        EXPECT_EQ(gij, 0.0) << "logit of pixel " << i << " depends on pixel " << j;
      else if (gij != 0.0)
        ++nonzero_before;
    }
  }
  EXPECT_GT(nonzero_before, d) << "the gradients are (almost) all zero: the check would pass vacuously";
}

/// complete() keeps every observed pixel and returns binary pixels.
inline void expect_completion_keeps_observed(
    const std::function<torch::Tensor(const torch::Tensor&, const torch::Tensor&)>& complete, int64_t h = 4,
    int64_t w = 4) {
  auto x = torch::bernoulli(torch::full({32, 1, h, w}, 0.5));
  auto observed = torch::rand({32, 1, h, w}) < 0.5;
  auto y = complete(x, observed);
  ASSERT_EQ(y.sizes(), x.sizes());
  EXPECT_TRUE(torch::equal(y.masked_select(observed), x.masked_select(observed)));
  EXPECT_TRUE(((y == 0) | (y == 1)).all().item<bool>());
  // And with one mask for all rows (the top half).
  auto top = torch::zeros({1, 1, h, w}, torch::kBool);
  top.slice(2, 0, h / 2).fill_(true);
  auto z = complete(x, top);
  EXPECT_TRUE(torch::equal(z.slice(2, 0, h / 2), x.slice(2, 0, h / 2)));
  // Something was sampled: over 32 rows the missing halves are not all copies of x.
  EXPECT_FALSE(torch::equal(z, x));
}

}  // namespace genzoo::testing
