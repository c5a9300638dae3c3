#include "genzoo/models/latent/autoencoder.h"

#include <gtest/gtest.h>

#include <cmath>

#include "genzoo/core/rng.h"
#include "genzoo/eval/image_quality.h"
#include "genzoo/train/objectives/reconstruction.h"

namespace genzoo {
namespace {

TEST(Corruption, EachKindChangesWhatItSaysAtItsRate) {
  torch::manual_seed(1);
  auto grey = torch::rand({200, 1, 8, 8});
  auto masked = corrupt(grey, Corruption::Masking, 0.3, PixelFormat::Unit);
  const double share = (masked != grey).to(torch::kFloat64).mean().item<double>();
  EXPECT_NEAR(share, 0.3, 0.02);
  EXPECT_TRUE((masked.masked_select(masked != grey) == 0).all().item<bool>());
  auto binary = (grey > 0.5).to(torch::kFloat);
  auto sp = corrupt(binary, Corruption::SaltAndPepper, 0.4, PixelFormat::Binary);
  EXPECT_TRUE(((sp == 0) | (sp == 1)).all().item<bool>());
  // Half the hit pixels land on their own value: 0.4 * 0.5 change.
  EXPECT_NEAR((sp != binary).to(torch::kFloat64).mean().item<double>(), 0.2, 0.02);
  auto noisy = corrupt(grey, Corruption::Gaussian, 0.1, PixelFormat::Unit);
  EXPECT_GE(noisy.min().item<double>(), 0);
  EXPECT_LE(noisy.max().item<double>(), 1);
  EXPECT_NEAR((noisy - grey).std().item<double>(), 0.1, 0.01);  // clipping trims a little
  auto levels = corrupt(grey * 255, Corruption::Gaussian, 0.05, PixelFormat::Levels256);
  EXPECT_TRUE((levels == levels.round()).all().item<bool>());
  auto sym = corrupt(grey * 2 - 1, Corruption::Masking, 1.0, PixelFormat::Symmetric);
  EXPECT_TRUE((sym == -1).all().item<bool>());
  EXPECT_TRUE(torch::equal(corrupt(grey, Corruption::None, 0.5, PixelFormat::Unit), grey));
  EXPECT_TRUE(torch::equal(corrupt(grey, Corruption::Masking, 0.0, PixelFormat::Unit), grey));
  EXPECT_THROW(corrupt(grey, Corruption::Masking, 1.5, PixelFormat::Unit), c10::Error);
}

TEST(Psnr, IsTenLogOfPeakSquaredOverMse) {
  auto x = torch::zeros({2, 4});
  auto y = torch::tensor({{0.1, 0.1, 0.1, 0.1}, {0.5, 0.0, 0.0, 0.0}});
  auto p = psnr(x, y);
  EXPECT_NEAR(p[0].item<double>(), 10 * std::log10(1 / 0.01), 1e-5);
  EXPECT_NEAR(p[1].item<double>(), 10 * std::log10(1 / (0.25 / 4)), 1e-5);
  EXPECT_NEAR(psnr(x * 255, y * 255, 255)[0].item<double>(), p[0].item<double>(), 1e-5);
}

// 8x8 images of one bright square whose place varies: structure to learn.
torch::Tensor squares(int64_t n, uint64_t seed) {
  auto gen = derived_generator(seed, 3);
  auto offsets = torch::randint(0, 4, {n, 2}, gen, torch::kLong);
  auto x = torch::zeros({n, 1, 8, 8});
  for (int64_t i = 0; i < n; ++i) {
    const int64_t r = offsets[i][0].item<int64_t>(), c = offsets[i][1].item<int64_t>();
    x[i][0].slice(0, r, r + 4).slice(1, c, c + 4).fill_(1);
  }
  return x;
}

TEST(Autoencoder, ADenoisingAutoencoderRestoresCloserThanTheCorruption) {
  torch::manual_seed(2);
  Autoencoder dae(AutoencoderOptions()
                      .net(EncoderDecoderOptions().shape({1, 8, 8}).hidden(32).layers(1).latent(8))
                      .corruption(Corruption::SaltAndPepper)
                      .level(0.2));
  Config c;
  c.set("optim.lr", 0.01);
  ReconstructionObjective objective(dae.ptr(), c);
  EXPECT_EQ(objective.held_out_metrics(), (std::vector<std::string>{"denoising", "reconstruction"}));
  auto train = squares(256, 2);
  const double before = objective.evaluate(train, 256).front().second;
  for (int epoch = 0; epoch < 60; ++epoch)
    for (int64_t b = 0; b < 256; b += 32) {
      FixedBatch batch(train.slice(0, b, b + 32));
      objective.step(batch);
    }
  EXPECT_LT(objective.evaluate(train, 256).front().second, before - 10);
  dae->eval();
  torch::NoGradGuard g;
  auto clean = squares(100, 3);
  auto noisy = dae->corrupt_input(clean);
  auto restored = dae->reconstruct(noisy);
  EXPECT_EQ(restored.sizes(), clean.sizes());
  const double psnr_noisy = psnr(noisy, clean).mean().item<double>();
  const double psnr_restored = psnr(restored, clean).mean().item<double>();
  EXPECT_GT(psnr_restored, psnr_noisy + 3) << "noisy " << psnr_noisy << " dB, restored " << psnr_restored << " dB";
  // The same network trained the same way on clean inputs restores the
  // corrupted images less well: the corruption in training is what does it.
  torch::manual_seed(2);
  Autoencoder ae(AutoencoderOptions().net(EncoderDecoderOptions().shape({1, 8, 8}).hidden(32).layers(1).latent(8)));
  {
    torch::AutoGradMode on(true);
    ReconstructionObjective plain(ae.ptr(), c);
    for (int epoch = 0; epoch < 60; ++epoch)
      for (int64_t b = 0; b < 256; b += 32) {
        FixedBatch batch(train.slice(0, b, b + 32));
        plain.step(batch);
      }
  }
  ae->eval();
  const double psnr_ae = psnr(ae->reconstruct(noisy), clean).mean().item<double>();
  EXPECT_GT(psnr_restored, psnr_ae + 1) << "dae " << psnr_restored << " dB, ae " << psnr_ae << " dB";
}

TEST(Autoencoder, ThePlainAutoencoderReconstructsWithoutCorruption) {
  torch::manual_seed(4);
  Autoencoder ae(AutoencoderOptions().net(EncoderDecoderOptions().shape({1, 8, 8}).hidden(32).layers(1).latent(8)));
  EXPECT_FALSE(ae->denoises());
  auto x = squares(8, 4);
  EXPECT_TRUE(torch::equal(ae->corrupt_input(x), x));
  Config c;
  ReconstructionObjective objective(ae.ptr(), c);
  EXPECT_EQ(objective.held_out_metrics(), (std::vector<std::string>{"reconstruction"}));
  EXPECT_EQ(ae->encode(x).sizes(), (std::vector<int64_t>{8, 8}));
}

}  // namespace
}  // namespace genzoo
