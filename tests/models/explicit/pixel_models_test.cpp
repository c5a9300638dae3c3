// PixelCNN, Gated PixelCNN and PixelRNN (Row LSTM): masked layers, the blind
// spot and its absence, cached sampling against the raster loop, the
// 256-way head, completion and the conditional Gated PixelCNN.
#include <gtest/gtest.h>

#include <functional>
#include <memory>

#include "genzoo/core/config.h"
#include "genzoo/core/error.h"
#include "genzoo/models/explicit/gated_pixelcnn.h"
#include "genzoo/models/explicit/pixel_model.h"
#include "genzoo/models/explicit/pixelcnn.h"
#include "genzoo/models/explicit/pixelrnn.h"
#include "genzoo/train/objectives/likelihood.h"

namespace genzoo {
namespace {

// Parameters moved off their initial values, in double precision.
void randomise(torch::nn::Module& m, uint64_t seed, double scale = 0.5) {
  torch::NoGradGuard g;
  auto gen = torch::make_generator<at::CPUGeneratorImpl>(seed);
  for (auto& p : m.parameters()) p.copy_(torch::randn(p.sizes(), gen, torch::kFloat64).to(p.dtype()) * scale);
}

TEST(MaskedConv2d, MasksAreRasterCausalAndForwardAtMatchesTheConvolution) {
  auto a = raster_mask(3, 5, MaskType::A), b = raster_mask(3, 5, MaskType::B);
  // Row 0 all ones; row 1: columns 0, 1 (and 2 for B); row 2 none.
  auto want_a = torch::tensor({1., 1., 1., 1., 1., 1., 1., 0., 0., 0., 0., 0., 0., 0., 0.}).reshape({3, 5});
  EXPECT_TRUE(torch::equal(a, want_a));
  auto want_b = want_a.clone();
  want_b[1][2] = 1;
  EXPECT_TRUE(torch::equal(b, want_b));
  EXPECT_THROW(raster_mask(2, 3, MaskType::A), c10::Error);

  torch::manual_seed(1);
  MaskedConv2d conv(MaskedConv2dOptions(2, 3, 3, 5, MaskType::B));
  conv->to(torch::kFloat64);
  auto x = torch::randn({4, 2, 6, 7}, torch::kFloat64);
  auto full = conv(x);  // [4, 3, 6, 7]
  ASSERT_EQ(full.sizes(), (std::vector<int64_t>{4, 3, 6, 7}));
  namespace F = torch::nn::functional;
  auto padded = F::pad(x, F::PadFuncOptions({conv->padding_cols(), conv->padding_cols(), conv->padding_rows(), 0}));
  for (int64_t r = 0; r < 6; ++r)
    for (int64_t c = 0; c < 7; ++c)
      EXPECT_TRUE(torch::allclose(conv->forward_at(padded, r, c), full.select(3, c).select(2, r), 1e-12, 1e-12))
          << r << "," << c;
  // The masked weights carry no gradient: training cannot grow what the mask hides.
  full.sum().backward();
  EXPECT_EQ((conv->weight.grad() * (1 - conv->mask)).abs().max().item<double>(), 0.0);
}

TEST(PixelHeads, SoftmaxDrawIsTheInverseCdfAndLogProbSumsTheChosenLevels) {
  // Three levels carry all the mass: 0 (0.5), 1 (0.25), 2 (0.25).
  auto logits = torch::full({4, 256}, -1e9, torch::kFloat64);
  logits.select(1, 0).fill_(std::log(0.5));
  logits.select(1, 1).fill_(std::log(0.25));
  logits.select(1, 2).fill_(std::log(0.25));
  auto u = torch::tensor({0.1, 0.6, 0.7, 0.99}, torch::kFloat64);
  EXPECT_TRUE(torch::equal(head_draw(PixelHead::Softmax256, logits, u), torch::tensor({0., 1., 1., 2.}, torch::kFloat64)));
  auto bern = head_draw(PixelHead::Bernoulli, torch::tensor({0.0, 0.0}, torch::kFloat64), torch::tensor({0.4, 0.6}, torch::kFloat64));
  EXPECT_TRUE(torch::equal(bern, torch::tensor({1., 0.}, torch::kFloat64)));
  // log p over two pixels of levels 0 and 2: log 0.5 + log 0.25.
  auto lp = head_log_prob(PixelHead::Softmax256, logits.slice(0, 0, 2).unsqueeze(0), torch::tensor({{0., 2.}}, torch::kFloat64));
  EXPECT_NEAR(lp.item<double>(), std::log(0.5) + std::log(0.25), 1e-12);
  EXPECT_TRUE(torch::allclose(centre_pixels(PixelHead::Softmax256, torch::tensor({0., 255.})), torch::tensor({-1., 1.})));
}

// One model of each kind on H x W images with `head`, in double precision.
struct Built {
  std::string name;
  std::shared_ptr<torch::nn::Module> module;
  Autoregressive* ar;
  MethodSampler* sampler;
  Density* density;
};

std::vector<Built> build_all(int64_t h, int64_t w, PixelHead head, uint64_t seed) {
  std::vector<Built> out;
  torch::manual_seed(seed);
  auto pc = PixelCnn(PixelCnnOptions().shape({1, h, w}).head(head).channels(3).blocks(2).first_kernel(5).output_channels(4));
  auto gp = GatedPixelCnn(
      GatedPixelCnnOptions().shape({1, h, w}).head(head).channels(3).layers(3).first_kernel(5).output_channels(4));
  auto pr = PixelRnn(PixelRnnOptions().shape({1, h, w}).head(head).channels(3).layers(2).first_kernel(3).output_channels(4));
  for (auto m : std::vector<std::shared_ptr<torch::nn::Module>>{pc.ptr(), gp.ptr(), pr.ptr()}) {
    m->to(torch::kFloat64);
    randomise(*m, seed++);
  }
  out.push_back({"pixelcnn", pc.ptr(), pc.get(), pc.get(), pc.get()});
  out.push_back({"gated-pixelcnn", gp.ptr(), gp.get(), gp.get(), gp.get()});
  out.push_back({"pixelrnn", pr.ptr(), pr.get(), pr.get(), pr.get()});
  return out;
}

TEST(PixelModels, CachedSamplingEqualsTheRasterLoopForEveryModelAndHead) {
  for (PixelHead head : {PixelHead::Bernoulli, PixelHead::Softmax256}) {
    const int64_t h = 5, w = 6, n = 3;
    for (auto& m : build_all(h, w, head, 20)) {
      m.module->eval();
      auto uniforms = torch::rand({n, h * w}, torch::kFloat64);
      auto start = torch::zeros({n, 1, h, w}, torch::kFloat64);
      auto nothing = torch::zeros({1, 1, h, w}, torch::kBool);
      torch::manual_seed(5);  // labels of a conditional model come from the same stream
      auto raster = m.sampler->generate(start, nothing, uniforms, SampleMethod::Raster);
      torch::manual_seed(5);
      auto cached = m.sampler->generate(start, nothing, uniforms, SampleMethod::Cached);
      EXPECT_TRUE(torch::equal(raster, cached)) << m.name << " " << pixel_head_names().name(head);
      // Not a degenerate case: the images vary.
      EXPECT_GT(raster.std().item<double>(), 0.0) << m.name;
      // Completion: the observed pixels (a random half) stay, and both
      // methods fill the rest alike.
      auto x = head == PixelHead::Bernoulli ? torch::bernoulli(torch::full({n, 1, h, w}, 0.5, torch::kFloat64))
                                            : torch::randint(256, {n, 1, h, w}, torch::kFloat64);
      auto observed = torch::rand({n, 1, h, w}) < 0.5;
      auto a = m.sampler->generate(x, observed, uniforms, SampleMethod::Raster);
      auto b = m.sampler->generate(x, observed, uniforms, SampleMethod::Cached);
      EXPECT_TRUE(torch::equal(a, b)) << m.name;
      EXPECT_TRUE(torch::equal(a.masked_select(observed), x.masked_select(observed))) << m.name;
      // Every drawn pixel is in the head's range.
      EXPECT_TRUE((a == a.round()).all().item<bool>());
      EXPECT_LE(a.max().item<double>(), head == PixelHead::Bernoulli ? 1.0 : 255.0);
    }
  }
}

// |d logit_i / d x_j| for every i, j, summed over 8 random images: [D, D]
// (row i). A ReLU that happens to be off on one image can zero a path
// there; over 8 images every path the architecture has shows.
torch::Tensor logit_jacobian(Autoregressive& ar, int64_t h, int64_t w) {
  auto total = torch::zeros({h * w, h * w}, torch::kFloat64);
  for (int image = 0; image < 8; ++image) {
    auto x = torch::bernoulli(torch::full({1, 1, h, w}, 0.5, torch::kFloat64)).requires_grad_(true);
    auto logits = ar.conditionals(x, 0);  // [1, D]
    for (int64_t i = 0; i < h * w; ++i) {
      auto g = torch::autograd::grad({logits[0][i]}, {x}, {}, true, false, true)[0];
      if (g.defined()) total[i] += g.reshape({h * w}).abs();
    }
  }
  return total;
}

TEST(PixelModels, PixelCnnHasABlindSpotTheGatedStacksDoNot) {
  // 5 x 5 images; pixel i = (3, 1) and the pixel j = (2, 3) up one row and
  // two columns right: stacked masks move up-right at most one column per
  // row and never right within a row, so no PixelCNN path joins j to i
  // however many layers; the gated model's vertical stack reads it.
  const int64_t h = 5, w = 5;
  torch::manual_seed(3);
  auto deep = PixelCnn(PixelCnnOptions().shape({1, h, w}).channels(3).blocks(6).first_kernel(3).output_channels(4));
  deep->to(torch::kFloat64);
  randomise(*deep, 3);
  auto jp = logit_jacobian(*deep, h, w);
  const int64_t i = 3 * w + 1, j = 2 * w + 3;
  EXPECT_EQ(jp[i][j].item<double>(), 0.0) << "PixelCNN's blind spot";
  EXPECT_NE(jp[i][j - 1].item<double>(), 0.0) << "one column nearer is seen";
  // The gated model reaches every earlier pixel: first kernel 5 (two rows up
  // and two columns each way through the vertical stack, two to the left
  // through the horizontal), each later layer one more.
  auto gated = GatedPixelCnn(GatedPixelCnnOptions().shape({1, h, w}).channels(3).layers(4).first_kernel(5).kernel(3)
                                 .output_channels(4));
  gated->to(torch::kFloat64);
  randomise(*gated, 4);
  auto jg = logit_jacobian(*gated, h, w);
  for (int64_t a = 0; a < h * w; ++a)
    for (int64_t b = 0; b < h * w; ++b) {
      if (b >= a) EXPECT_EQ(jg[a][b].item<double>(), 0.0) << a << " sees " << b;
      else EXPECT_NE(jg[a][b].item<double>(), 0.0) << a << " misses " << b;
    }
}

TEST(PixelModels, TheSoftmaxHeadsSumToOneOverEveryTwoPixelImage) {
  // 1 x 2 images of 256 levels: all 65,536 of them.
  auto levels = torch::arange(256, torch::kFloat64);
  auto grid = torch::stack({levels.repeat_interleave(256), levels.repeat({256})}, 1).reshape({65536, 1, 1, 2});
  for (auto& m : build_all(1, 2, PixelHead::Softmax256, 30)) {
    m.module->eval();
    torch::NoGradGuard no_grad;
    std::vector<torch::Tensor> parts;
    for (int64_t s = 0; s < 65536; s += 8192) parts.push_back(m.density->log_prob(grid.slice(0, s, s + 8192)));
    const double total = torch::logsumexp(torch::cat(parts), 0).exp().item<double>();
    EXPECT_NEAR(total, 1.0, 1e-9) << m.name;
  }
}

TEST(PixelModels, TheConditionalGatedModelTrainsOnItsLabelsAndSamplesThem) {
  const int64_t h = 4, w = 4;
  GatedPixelCnnOptions o;
  o.shape({1, h, w}).channels(3).layers(2).first_kernel(3).output_channels(4).classes(2);
  torch::manual_seed(6);
  auto m = ConditionalGatedPixelCnn(o);
  m->to(torch::kFloat64);
  randomise(*m, 6);
  m->set_class_prior(torch::tensor({0, 0, 0, 1}, torch::kLong));  // p(y) = (4/6, 2/6), add-one smoothed
  EXPECT_TRUE(torch::allclose(m->class_log_prior().exp(), torch::tensor({4.0 / 6, 2.0 / 6}, torch::kFloat64)));
  auto x = torch::bernoulli(torch::full({3, 1, h, w}, 0.5, torch::kFloat64));
  // The label changes the conditionals; the marginal is the prior's mixture.
  auto l0 = m->log_prob_given(x, torch::zeros({3}, torch::kLong));
  auto l1 = m->log_prob_given(x, torch::ones({3}, torch::kLong));
  EXPECT_FALSE(torch::allclose(l0, l1));
  auto marginal = torch::logsumexp(torch::stack({l0 + std::log(4.0 / 6), l1 + std::log(2.0 / 6)}, 1), 1);
  EXPECT_TRUE(torch::allclose(m->log_prob(x), marginal, 1e-10, 1e-10));
  // Cached and raster agree for given labels too.
  auto u = torch::rand({3, h * w}, torch::kFloat64);
  auto labels = torch::tensor({1, 0, 1}, torch::kLong);
  auto start = torch::zeros({3, 1, h, w}, torch::kFloat64);
  auto nothing = torch::zeros({1, 1, h, w}, torch::kBool);
  EXPECT_TRUE(torch::equal(m->generate_given(start, nothing, u, labels, SampleMethod::Raster),
                           m->generate_given(start, nothing, u, labels, SampleMethod::Cached)));
  EXPECT_EQ(m->sample_given(labels).sizes(), (std::vector<int64_t>{3, 1, h, w}));
  // The likelihood objective trains it on log p(x | y) with the batch's labels.
  Config c;
  c.set("optim.lr", 1e-2);
  LikelihoodObjective objective(m.ptr(), c);
  FixedBatch batch(x, torch::tensor({0, 1, 1}, torch::kLong));
  auto before = -m->log_prob_given(x, torch::tensor({0, 1, 1}, torch::kLong)).mean().item<double>();
  auto first = objective.step(batch);
  EXPECT_NEAR(first.front().second, before, 1e-9);  // the loss is the labelled NLL
  for (int s = 0; s < 20; ++s) objective.step(batch);
  EXPECT_LT(-m->log_prob_given(x, torch::tensor({0, 1, 1}, torch::kLong)).mean().item<double>(), before);
  auto scores = objective.evaluate({x, torch::tensor({0, 1, 1}, torch::kLong)}, 2);
  ASSERT_EQ(scores.size(), 2u);
  EXPECT_EQ(scores[1].first, "nll_given_label");
  FixedBatch unlabelled(x);
  EXPECT_THROW(objective.step(unlabelled), Error);
  // Through the registry: model.conditional = true builds this model from
  // labelled data (its prior from their frequencies), and refuses data without labels.
  Config rc;
  rc.set("model.conditional", true);
  rc.set("model.channels", int64_t{2});
  rc.set("model.layers", int64_t{1});
  ModelContext ctx;
  ctx.config = &rc;
  ctx.data.format = PixelFormat::Binary;
  ctx.data.height = ctx.data.width = 4;
  ctx.data.classes = 3;
  ctx.train_labels = torch::tensor({2, 2, 2, 0}, torch::kLong);
  auto built = create_model(gated_pixelcnn_model_info(), ctx);
  auto conditional = as<ClassConditional>(built);
  ASSERT_TRUE(conditional);
  EXPECT_EQ(conditional->classes(), 3);
  EXPECT_TRUE(torch::allclose(conditional->class_log_prior().exp(), torch::tensor({2.0 / 7, 1.0 / 7, 4.0 / 7}, torch::kFloat64)));
  EXPECT_TRUE(as<ConditionalDensity>(built));
  ctx.data.classes = 0;
  EXPECT_THROW(create_model(gated_pixelcnn_model_info(), ctx), Error);
  // The unconditional model claims neither.
  rc.set("model.conditional", false);
  auto plain = create_model(gated_pixelcnn_model_info(), ctx);
  EXPECT_FALSE(as<ClassConditional>(plain));
  EXPECT_FALSE(as<ConditionalDensity>(plain));
}

}  // namespace
}  // namespace genzoo
