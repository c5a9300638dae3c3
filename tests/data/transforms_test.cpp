#include "genzoo/data/transforms.h"

#include <gtest/gtest.h>

#include "genzoo/core/error.h"
#include "genzoo/core/rng.h"

namespace genzoo {
namespace {

// Every pixel value 0..255, repeated: uint8 [8, 1, 16, 16].
torch::Tensor all_pixels() {
  return torch::arange(256, torch::kInt32).repeat({8}).to(torch::kUInt8).reshape({8, 1, 16, 16});
}

ImageTransform make(Binarize b, uint64_t seed, PixelScale s = PixelScale::Unit, bool deq = false) {
  TransformOptions o;
  o.binarize = b;
  o.scale = s;
  o.dequantize = deq;
  return ImageTransform(o, seed);
}

TEST(Transforms, NamesRoundTripAndUnknownNamesListChoices) {
  for (const auto& n : binarize_names()) EXPECT_EQ(binarize_name(parse_binarize(n)), n);
  EXPECT_EQ(pixel_scale_name(parse_pixel_scale("symmetric")), "symmetric");
  EXPECT_EQ(parse_pixel_scale("unit"), PixelScale::Unit);
  try {
    parse_binarize("sometimes");
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "unknown binarization 'sometimes' (choose from none, threshold, static, dynamic)");
  }
  EXPECT_THROW(parse_pixel_scale("[0,1]"), Error);
}

TEST(Transforms, ThresholdIsExact) {
  auto raw = all_pixels();
  auto b = binarize_threshold(raw);
  EXPECT_EQ(b.scalar_type(), torch::kFloat32);
  EXPECT_TRUE(torch::equal(b, (raw.to(torch::kInt32) >= 128).to(torch::kFloat32)));
  EXPECT_EQ(binarize_threshold(torch::full({1}, 127, torch::kUInt8)).item<float>(), 0.0f);
  EXPECT_EQ(binarize_threshold(torch::full({1}, 128, torch::kUInt8)).item<float>(), 1.0f);
  EXPECT_TRUE(torch::equal(make(Binarize::Threshold, 3).prepare(raw, 0), b));
}

TEST(Transforms, UnitAndSymmetricRanges) {
  auto raw = all_pixels();
  auto u = to_unit(raw), s = to_symmetric(raw);
  EXPECT_EQ(u.min().item<float>(), 0.0f);
  EXPECT_EQ(u.max().item<float>(), 1.0f);
  EXPECT_EQ(s.min().item<float>(), -1.0f);
  EXPECT_EQ(s.max().item<float>(), 1.0f);
  EXPECT_TRUE(torch::allclose(s, 2 * u - 1, 0, 1e-6));
  EXPECT_TRUE(torch::equal(make(Binarize::None, 0, PixelScale::Symmetric).prepare(raw, 0), s));
  EXPECT_THROW(to_unit(raw.to(torch::kFloat32)), c10::Error);
}

TEST(Transforms, BernoulliEdgesAndMean) {
  auto gen = derived_generator(1, 2, 3);
  EXPECT_EQ(binarize_bernoulli(torch::zeros({1000}), gen).sum().item<float>(), 0.0f);
  EXPECT_EQ(binarize_bernoulli(torch::ones({1000}), gen).sum().item<float>(), 1000.0f);
  // 40,000 draws of p = 0.3: standard error 0.0023.
  EXPECT_NEAR(binarize_bernoulli(torch::full({40000}, 0.3), gen).mean().item<float>(), 0.3, 0.012);
}

TEST(Transforms, StaticDrawIsFixedAndIndependentOfRunSeed) {
  auto raw = all_pixels();
  auto a = make(Binarize::Static, 1).prepare(raw, 0);
  auto b = make(Binarize::Static, 999).prepare(raw, 0);
  auto again = make(Binarize::Static, 1).prepare(raw, 0);
  EXPECT_TRUE(torch::equal(a, b));
  EXPECT_TRUE(torch::equal(a, again));
  EXPECT_FALSE(torch::equal(a, make(Binarize::Static, 1).prepare(raw, 1)));  // another split
  EXPECT_TRUE(((a == 0) | (a == 1)).all().item<bool>());
  EXPECT_TRUE((a.masked_select(raw == 0) == 0).all().item<bool>());
  EXPECT_TRUE((a.masked_select(raw == 255) == 1).all().item<bool>());
  // batch() does not redraw a static set.
  EXPECT_TRUE(torch::equal(make(Binarize::Static, 1).batch(a, 4, 2), a));
}

TEST(Transforms, DynamicDrawDependsOnSeedEpochAndBatchOnly) {
  auto raw = all_pixels();
  auto t = make(Binarize::Dynamic, 7);
  auto probs = t.prepare(raw, 0);
  EXPECT_TRUE(torch::equal(probs, to_unit(raw)));
  auto x = t.batch(probs, 2, 5);
  EXPECT_TRUE(torch::equal(x, t.batch(probs, 2, 5)));
  EXPECT_TRUE(torch::equal(x, make(Binarize::Dynamic, 7).batch(probs, 2, 5)));
  EXPECT_FALSE(torch::equal(x, t.batch(probs, 3, 5)));  // next epoch
  EXPECT_FALSE(torch::equal(x, t.batch(probs, 2, 6)));  // next batch
  EXPECT_FALSE(torch::equal(x, t.batch(probs, 5, 2)));  // (epoch, batch) is not symmetric
  EXPECT_FALSE(torch::equal(x, make(Binarize::Dynamic, 8).batch(probs, 2, 5)));  // run seed
  EXPECT_TRUE(((x == 0) | (x == 1)).all().item<bool>());
  EXPECT_TRUE(t.binary());
  EXPECT_FALSE(make(Binarize::None, 7).binary());
}

TEST(Transforms, DynamicEvaluationUsesTheStaticDraw) {
  auto raw = all_pixels();
  EXPECT_TRUE(torch::equal(make(Binarize::Dynamic, 7).for_eval(raw, 1),
                           make(Binarize::Static, 123).prepare(raw, 1)));
  EXPECT_TRUE(torch::equal(make(Binarize::Threshold, 7).for_eval(raw, 1), binarize_threshold(raw)));
}

TEST(Transforms, DequantizeStaysInPixelBin) {
  auto raw = all_pixels().repeat({8, 1, 1, 1});  // 64 copies of every value
  auto x = dequantize(raw, derived_generator(5, 6, 7));
  EXPECT_GE(x.min().item<float>(), 0.0f);
  EXPECT_LT(x.max().item<float>(), 1.0f);
  EXPECT_TRUE(torch::equal(torch::floor(x * 256).to(torch::kUInt8), raw));
  // The noise is not degenerate: within-bin offsets spread over [0, 1).
  auto u = x * 256 - raw.to(torch::kFloat32);
  EXPECT_NEAR(u.mean().item<float>(), 0.5, 0.02);

  auto t = make(Binarize::None, 3, PixelScale::Unit, true);
  auto prepared = t.prepare(raw, 0);
  auto b = t.batch(prepared, 1, 1);
  EXPECT_TRUE(torch::equal(torch::floor(b * 256).to(torch::kUInt8), raw));
  EXPECT_TRUE(torch::equal(b, t.batch(prepared, 1, 1)));
  EXPECT_FALSE(torch::equal(b, t.batch(prepared, 1, 2)));
  auto e = t.for_eval(raw, 1);
  EXPECT_TRUE(torch::equal(e, make(Binarize::None, 99, PixelScale::Unit, true).for_eval(raw, 1)));
  EXPECT_TRUE(torch::equal(torch::floor(e * 256).to(torch::kUInt8), raw));
}

TEST(Transforms, DequantizeNeedsGreyUnitPixels) {
  EXPECT_THROW(make(Binarize::Static, 1, PixelScale::Unit, true), Error);
  EXPECT_THROW(make(Binarize::Dynamic, 1, PixelScale::Unit, true), Error);
  try {
    make(Binarize::None, 1, PixelScale::Symmetric, true);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("scale symmetric"), std::string::npos) << e.what();
  }
}

TEST(Transforms, NoneWithoutDequantizationIsTheIdentityPerBatch) {
  auto raw = all_pixels();
  auto t = make(Binarize::None, 1);
  auto p = t.prepare(raw, 0);
  EXPECT_TRUE(torch::equal(t.batch(p, 0, 0), p));
  EXPECT_TRUE(torch::equal(t.for_eval(raw, 0), p));
}

}  // namespace
}  // namespace genzoo
