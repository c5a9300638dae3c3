#include "genzoo/models/explicit/nade.h"

#include <ATen/Parallel.h>
#include <gtest/gtest.h>

#include <tuple>

#include "autoregressive_checks.h"
#include "genzoo/core/error.h"

namespace genzoo {
namespace {

Nade random_nade(uint64_t seed, const std::string& activation = "sigmoid", const std::string& impl = "fused",
                 int64_t hidden = 7) {
  torch::manual_seed(seed);
  Nade m(NadeOptions()
             .shape({1, 4, 4})
             .hidden(hidden)
             .activation(*nade_activation_names().find(activation))
             .impl(*nade_implementation_names().find(impl)));
  torch::NoGradGuard g;
  for (auto& p : m->parameters()) p.normal_(0, 1.0);
  return m;
}

TEST(Nade, ProbabilitiesOfAllBinaryImagesSumToOne) {
  for (const char* act : {"sigmoid", "relu"}) {
    auto m = random_nade(1, act);
    EXPECT_NEAR(testing::total_probability([&](const torch::Tensor& x) { return m->log_prob(x); }), 1.0, 1e-4)
        << act;
  }
}

// The O(HD) recurrence against the definition: h_i recomputed from scratch
// for every pixel, eq. 2-3 of Larochelle & Murray (2011).
TEST(Nade, FusedLogProbEqualsNaivePerPixelRecomputation) {
  for (const char* act : {"sigmoid", "relu"}) {
    auto m = random_nade(2, act, "fused", 23);
    auto x = torch::bernoulli(torch::full({9, 1, 4, 4}, 0.4));
    auto flat = x.reshape({9, 16});
    torch::NoGradGuard g;
    auto want = torch::zeros({9});
    for (int64_t i = 0; i < 16; ++i) {
      auto a = m->c + torch::matmul(flat.slice(1, 0, i), m->w.slice(1, 0, i).t());  // [9, H]
      auto h = std::string(act) == "relu" ? torch::relu(a) : torch::sigmoid(a);
      auto logit = torch::mv(h, m->v[i]) + m->b[i];
      auto xi = flat.select(1, i);
      want += xi * torch::log_sigmoid(logit) + (1 - xi) * torch::log_sigmoid(-logit);
    }
    EXPECT_TRUE(torch::allclose(m->log_prob(x), want, 1e-5, 1e-4)) << act;
  }
}

TEST(Nade, FusedAndNaiveGiveTheSameGradients) {
  // Two threads, so that the rows are split into chunks with their own
  // gradient buffers (ctest runs with OMP_NUM_THREADS=1 otherwise).
  const int threads_before = at::get_num_threads();
  at::set_num_threads(2);
  for (const char* act : {"sigmoid", "relu"}) {
    auto fused = random_nade(3, act, "fused", 31);
    auto naive = random_nade(3, act, "naive", 31);
    auto x = torch::bernoulli(torch::full({40, 1, 4, 4}, 0.5));  // two chunks of 20 rows: groups of 8, 8 and 4
    auto xf = x.clone().requires_grad_(true), xn = x.clone().requires_grad_(true);
    (fused->log_prob(xf) * torch::linspace(0.5, 2.0, 40)).sum().backward();
    (naive->log_prob(xn) * torch::linspace(0.5, 2.0, 40)).sum().backward();
    for (const char* name : {"w", "c", "v", "b"}) {
      auto gf = fused->named_parameters()[name].grad(), gn = naive->named_parameters()[name].grad();
      EXPECT_TRUE(torch::allclose(gf, gn, 1e-4, 1e-4)) << act << " " << name << " differs by "
                                                       << (gf - gn).abs().max().item<double>();
    }
    EXPECT_TRUE(torch::allclose(xf.grad(), xn.grad(), 1e-4, 1e-4))
        << act << " dx differs by " << (xf.grad() - xn.grad()).abs().max().item<double>();
  }
  at::set_num_threads(threads_before);
}

// The custom backward against central finite differences in double, for the
// parameters and for x (continuous here: the recurrence is smooth in x).
TEST(Nade, FusedBackwardMatchesFiniteDifferencesInDouble) {
  for (bool relu : {false, true}) {
    torch::manual_seed(4);
    const int64_t n = 3, d = 6, h = 5;
    auto opts = torch::TensorOptions().dtype(torch::kFloat64);
    std::vector<torch::Tensor> in = {torch::rand({n, d}, opts), torch::randn({h, d}, opts),
                                     torch::randn({h}, opts), torch::randn({d, h}, opts), torch::randn({d}, opts)};
    for (auto& t : in) t.requires_grad_(true);
    auto weights = torch::randn({n, d}, opts);  // a generic linear read-out of the logits
    auto loss = [&] { return (nade_fused_logits(in[0], in[1], in[2], in[3], in[4], relu) * weights).sum(); };
    auto grads = torch::autograd::grad({loss()}, in);
    const double eps = 1e-6;
    for (size_t k = 0; k < in.size(); ++k) {
      auto flat = in[k].detach().view({-1});
      auto g = grads[k].reshape({-1});
      for (int64_t j = 0; j < flat.size(0); ++j) {
        torch::NoGradGuard ng;
        const double old = flat[j].item<double>();
        flat[j] = old + eps;
        const double up = loss().item<double>();
        flat[j] = old - eps;
        const double down = loss().item<double>();
        flat[j] = old;
        EXPECT_NEAR(g[j].item<double>(), (up - down) / (2 * eps), 1e-6)
            << (relu ? "relu" : "sigmoid") << " input " << k << " entry " << j;
      }
    }
  }
}

TEST(Nade, ConditionalOfPixelIDependsOnlyOnEarlierPixels) {
  for (const char* impl : {"fused", "naive"}) {
    auto m = random_nade(5, "sigmoid", impl);
    testing::expect_autoregressive([&](const torch::Tensor& x) { return m->conditional_logits(x); },
                                   torch::arange(16));
  }
}

TEST(Nade, CompletionNeverChangesObservedPixels) {
  auto m = random_nade(6);
  testing::expect_completion_keeps_observed(
      [&](const torch::Tensor& x, const torch::Tensor& o) { return m->complete(x, o); });
}

TEST(Nade, SamplesFollowTheModel) {
  // The empirical distribution of 200,000 samples of a 2x2 NADE against its
  // 16 exact probabilities.
  torch::manual_seed(7);
  Nade m(NadeOptions().shape({1, 2, 2}).hidden(5));
  {
    torch::NoGradGuard g;
    for (auto& p : m->parameters()) p.normal_(0, 1.0);
  }
  const int64_t n = 200000;
  auto s = m->sample(n).reshape({n, 4}).to(torch::kInt64);
  auto codes = (s * torch::tensor({1, 2, 4, 8})).sum(1);
  auto freq = torch::bincount(codes, {}, 16).to(torch::kFloat64) / n;
  torch::NoGradGuard g;
  auto p = m->log_prob(testing::all_binary_images(2, 2)).exp().to(torch::kFloat64);
  EXPECT_LT((freq - p).abs().max().item<double>(), 0.006);
}

TEST(Nade, RejectsBadOptions) {
  EXPECT_THROW(Nade(NadeOptions().hidden(0)), c10::Error);
  // Enumerated options are typed: a bad name fails where the config is read,
  // naming the choices.
  for (auto [key, value, choices] : {std::tuple<const char*, const char*, const char*>{"model.activation", "tanh", "sigmoid, relu"},
                                     {"model.impl", "fast", "fused, naive"}}) {
    Config c;
    c.set(key, std::string(value));
    ModelContext ctx;
    ctx.config = &c;
    ctx.data.format = PixelFormat::Binary;
    try {
      create_model(nade_model_info(), ctx);
      ADD_FAILURE() << key << " = " << value << " was accepted";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(choices), std::string::npos) << e.what();
    }
  }
}

// at::parallel_for splits work only where OpenMP was on at compile time; a
// build without it ran NADE's row chunks one after another on one core.
TEST(Nade, FusedRecurrenceRunsOnEveryThreadItIsGiven) {
  if (!nade_built_with_openmp()) GTEST_SKIP() << "nade.cpp built without OpenMP (a clang build): one thread by design";
  const int threads_before = at::get_num_threads();
  at::set_num_threads(2);
  EXPECT_EQ(nade_fused_threads(100), 2);
  EXPECT_EQ(nade_fused_threads(10), 1);  // one chunk: too few rows to split
  at::set_num_threads(1);
  EXPECT_EQ(nade_fused_threads(100), 1);
  at::set_num_threads(threads_before);
}

// More than one block of 64 rows on one thread: the fused backward walks
// several row blocks of one chunk (ctest runs one thread, the test of two
// threads above splits 40 rows into chunks of one block each).
TEST(Nade, FusedAndNaiveGiveTheSameGradientsOverSeveralRowBlocks) {
  const int threads_before = at::get_num_threads();
  at::set_num_threads(1);
  auto fused = random_nade(8, "sigmoid", "fused", 23);
  auto naive = random_nade(8, "sigmoid", "naive", 23);
  auto x = torch::bernoulli(torch::full({150, 1, 4, 4}, 0.4));  // blocks of 64, 64 and 22 rows
  auto xf = x.clone().requires_grad_(true), xn = x.clone().requires_grad_(true);
  auto weights = torch::linspace(0.5, 2.0, 150);
  (fused->log_prob(xf) * weights).sum().backward();
  (naive->log_prob(xn) * weights).sum().backward();
  for (const char* name : {"w", "c", "v", "b"}) {
    auto gf = fused->named_parameters()[name].grad(), gn = naive->named_parameters()[name].grad();
    EXPECT_TRUE(torch::allclose(gf, gn, 1e-4, 1e-4)) << name << " differs by " << (gf - gn).abs().max().item<double>();
  }
  EXPECT_TRUE(torch::allclose(xf.grad(), xn.grad(), 1e-4, 1e-4))
      << "dx differs by " << (xf.grad() - xn.grad()).abs().max().item<double>();
  at::set_num_threads(threads_before);
}

}  // namespace
}  // namespace genzoo
