#include "genzoo/models/spectral_norm.h"

#include <gtest/gtest.h>

#include <cmath>
#include <sstream>

#include "genzoo/models/adversarial/networks.h"

namespace genzoo {
namespace {

double largest_singular_value(const torch::Tensor& w) {
  return torch::linalg_svdvals(w.reshape({w.size(0), -1}).to(torch::kFloat64)).max().item<double>();
}

TEST(SpectralNorm, PowerIterationFindsTheLargestSingularValue) {
  torch::manual_seed(3);
  SpectralLinear linear(7, 5);
  SpectralConv2d conv(torch::nn::Conv2dOptions(3, 4, 3).padding(1));
  // After the warm-up the estimate is close; more iterations make it exact.
  EXPECT_NEAR(linear->sigma(), largest_singular_value(linear->linear->weight), 0.05 * linear->sigma());
  linear->power_iteration(200);
  conv->power_iteration(200);
  EXPECT_NEAR(linear->sigma(), largest_singular_value(linear->linear->weight), 1e-5);
  EXPECT_NEAR(conv->sigma(), largest_singular_value(conv->conv->weight), 1e-5);
}

TEST(SpectralNorm, TheLayerAppliesTheNormalisedWeight) {
  torch::manual_seed(4);
  SpectralLinear linear(6, 3);
  SpectralConv2d conv(torch::nn::Conv2dOptions(2, 3, 4).stride(2).padding(1));
  linear->power_iteration(200);
  conv->power_iteration(200);
  auto x = torch::randn({5, 6});
  auto w = linear->linear->weight;
  auto expected = torch::matmul(x, (w / largest_singular_value(w)).t()) + linear->linear->bias;
  EXPECT_TRUE(torch::allclose(linear->forward(x), expected, 1e-4, 1e-5));
  auto a = torch::randn({1, 2, 8, 8});
  auto wc = conv->conv->weight;
  auto reference = torch::conv2d(a, wc / largest_singular_value(wc), conv->conv->bias, 2, 1);
  EXPECT_TRUE(torch::allclose(conv->forward(a), reference, 1e-4, 1e-5));
}

TEST(SpectralNorm, ForwardOnlyReadsTheEstimate) {
  torch::manual_seed(5);
  SpectralLinear linear(4, 4);
  auto u = linear->estimate.u.clone();
  auto x = torch::randn({3, 4});
  linear->train();
  auto y1 = linear->forward(x);
  linear->eval();
  auto y2 = linear->forward(x);
  EXPECT_TRUE(torch::equal(y1, y2));
  EXPECT_TRUE(torch::equal(u, linear->estimate.u));
  {
    torch::NoGradGuard no_grad;  // an update: the converged estimate is stale
    linear->linear->weight.add_(torch::randn({4, 4}));
  }
  linear->power_iteration(1);
  EXPECT_FALSE(torch::equal(u, linear->estimate.u));
}

TEST(SpectralNorm, TheGradientAtConvergenceIsTheExactOne) {
  // With u, v converged, d sigma / dW = u v^T, so the gradient through the
  // estimate equals the gradient through the exact sigma_max(W) (from the SVD).
  torch::manual_seed(6);
  SpectralLinear linear(5, 4);
  linear->power_iteration(500);
  auto x = torch::randn({8, 5});
  auto target = torch::randn({8, 4});
  auto loss = (linear->forward(x) - target).pow(2).sum();
  loss.backward();
  auto ours = linear->linear->weight.grad().clone();

  auto w = linear->linear->weight.detach().clone().set_requires_grad(true);
  auto sigma = torch::linalg_svdvals(w).max();
  auto exact = (torch::linear(x, w / sigma, linear->linear->bias.detach()) - target).pow(2).sum();
  exact.backward();
  EXPECT_TRUE(torch::allclose(ours, w.grad(), 1e-3, 1e-4)) << (ours - w.grad()).abs().max().item<double>();
}

TEST(SpectralNorm, TheEstimateTravelsWithTheModule) {
  torch::manual_seed(7);
  SpectralLinear a(5, 3);
  a->power_iteration(3);
  std::stringstream stream;
  torch::save(a, stream);
  torch::manual_seed(8);
  SpectralLinear b(5, 3);
  torch::load(b, stream);
  EXPECT_TRUE(torch::equal(a->estimate.u, b->estimate.u));
  EXPECT_TRUE(torch::equal(a->estimate.v, b->estimate.v));
  auto x = torch::randn({2, 5});
  EXPECT_TRUE(torch::equal(a->forward(x), b->forward(x)));
  // clone() copies the estimate too and keeps it separate.
  auto c = std::dynamic_pointer_cast<SpectralLinearImpl>(a->clone());
  EXPECT_TRUE(torch::equal(c->estimate.u, a->estimate.u));
  c->estimate.u.fill_(1);
  EXPECT_FALSE(torch::equal(c->estimate.u, a->estimate.u));
}

TEST(SpectralNorm, TheDiscriminatorNormalisesEveryLayerAndIteratesOnConstrain) {
  for (auto unit : {DiscriminatorUnit::LeakyRelu, DiscriminatorUnit::Maxout}) {
    auto o = AdversarialNetOptions().shape({2}).format(PixelFormat::Points).d_unit(unit).d_hidden(8).d_pieces(2).d_layers(2).d_spectral_norm(true);
    Discriminator d(o);
    // Every affine map is a SpectralLinear: 2 hidden layers + the head.
    EXPECT_EQ(spectral_power_iteration(*d, 0), 3);
    // New weights (as after an update): constrain() moves every layer's
    // estimate towards the new sigma.
    std::vector<std::pair<SpectralLinearImpl*, double>> errors;
    for (auto& m : d->modules(false))
      if (auto* l = m->as<SpectralLinear>()) {
        torch::NoGradGuard no_grad;
        l->linear->weight.copy_(torch::randn(l->linear->weight.sizes()));
        errors.emplace_back(l, std::abs(l->sigma() - largest_singular_value(l->linear->weight)));
      }
    d->constrain();
    for (auto [l, before] : errors) {
      const double after = std::abs(l->sigma() - largest_singular_value(l->linear->weight));
      EXPECT_LT(after, before);
    }
  }
  auto conv = AdversarialNetOptions().arch(GanArch::Conv).d_spectral_norm(true);
  Discriminator dc(conv);
  EXPECT_EQ(spectral_power_iteration(*dc, 0), 4);
  EXPECT_EQ(dc->forward(torch::rand({2, 1, 28, 28})).sizes(), (std::vector<int64_t>{2, 1}));
}

}  // namespace
}  // namespace genzoo
