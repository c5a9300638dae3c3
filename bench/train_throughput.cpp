// Training throughput (images/s): forward, backward and an Adam step on
// batches of 100 binary 28x28 images, the work bench/peers/autoregressive.py
// and bench/peers/latent.py do in PyTorch. Run both with
// bench/run-autoregressive-speed or bench/run-latent-speed, which report the
// ratio from one run.
//
//   genzoo_train_bench MODEL [--threads N] [--seconds S] [--density P]
//   MODEL: fvsbn | nade | nade-naive | made     (exact NLL)
//          pixelcnn | gated-pixelcnn | pixelrnn (exact NLL, Bernoulli head, the
//                                               recipes' sizes)
//          vae | vae-conv                       (the one-sample ELBO: Burda et
//                                               al.'s MLP, the conv recipe's pair)
//          dcgan                                (one Algorithm 1 step, k = 1: a D
//                                               update on 64 images in [-1, 1]
//                                               and 64 fakes, then a G update;
//                                               Adam 2e-4, betas (0.5, 0.999);
//                                               bench/peers/gan.py)
// Pixels are 1 with probability P (default 0.31, the fraction of ones in
// thresholded Fashion-MNIST; mnist-10k's mean intensity is 0.13). NADE's
// fused kernel skips work on 0 pixels, so its speed depends on P.
#include <torch/torch.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "genzoo/core/device.h"
#include "genzoo/core/timer.h"
#include "genzoo/models/explicit/fvsbn.h"
#include "genzoo/models/explicit/gated_pixelcnn.h"
#include "genzoo/models/explicit/pixelcnn.h"
#include "genzoo/models/explicit/pixelrnn.h"
#include "genzoo/models/explicit/made.h"
#include "genzoo/models/explicit/nade.h"
#include "genzoo/models/adversarial/gan.h"
#include "genzoo/models/latent/vae.h"
#include "genzoo/train/objectives/adversarial.h"

namespace {

genzoo::ModulePtr make_model(const std::string& name) {
  if (name == "fvsbn") return genzoo::Fvsbn(genzoo::FvsbnOptions()).ptr();
  if (name == "nade") return genzoo::Nade(genzoo::NadeOptions().hidden(500)).ptr();
  if (name == "nade-naive") return genzoo::Nade(genzoo::NadeOptions().hidden(500).impl(genzoo::NadeImplementation::Naive)).ptr();
  if (name == "made")
    return genzoo::Made(genzoo::MadeOptions().hidden(500).layers(1).masks(1).direct(true)).ptr();
  // The sizes of configs/{pixelcnn,gated-pixelcnn,pixelrnn}-fashion-mnist.toml
  // (and of bench/peers/autoregressive.py's PIXEL).
  if (name == "pixelcnn")
    return genzoo::PixelCnn(genzoo::PixelCnnOptions().channels(16).blocks(4).first_kernel(7).kernel(3).output_channels(32))
        .ptr();
  if (name == "gated-pixelcnn")
    return genzoo::GatedPixelCnn(
               genzoo::GatedPixelCnnOptions().channels(16).layers(4).first_kernel(7).kernel(3).output_channels(32))
        .ptr();
  if (name == "pixelrnn")
    return genzoo::PixelRnn(genzoo::PixelRnnOptions().channels(16).layers(2).first_kernel(7).kernel(3).output_channels(32))
        .ptr();
  if (name == "dcgan") {
    genzoo::GanOptions o;
    o.net(genzoo::AdversarialNetOptions()
              .arch(genzoo::GanArch::Conv)
              .noise(genzoo::GanNoise::Gaussian)
              .format(genzoo::PixelFormat::Symmetric));
    return genzoo::Gan(o).ptr();
  }
  if (name == "vae") return genzoo::Vae(genzoo::VaeOptions()).ptr();  // 784-200-200-(2x50), tanh
  if (name == "vae-conv")
    return genzoo::Vae(genzoo::VaeOptions().net(
                           genzoo::EncoderDecoderOptions().arch(genzoo::LatentArch::Conv).channels(32).latent(20)))
        .ptr();
  return nullptr;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr,
                 "usage: genzoo_train_bench fvsbn|nade|nade-naive|made|pixelcnn|gated-pixelcnn|pixelrnn|vae|vae-conv|dcgan "
                 "[--threads N] [--seconds S] "
                 "[--density P]\n");
    return 2;
  }
  const std::string name = argv[1];
  int threads = 0;
  double seconds = 10, ones = 0.31;
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--threads") threads = std::atoi(argv[i + 1]);
    else if (flag == "--seconds") seconds = std::atof(argv[i + 1]);
    else if (flag == "--density") ones = std::atof(argv[i + 1]);
  }
  const int used = genzoo::set_threads(threads);
  torch::manual_seed(0);
  auto model = make_model(name);
  if (!model) {
    std::fprintf(stderr, "genzoo_train_bench: unknown model '%s'\n", name.c_str());
    return 2;
  }
  if (genzoo::as<genzoo::Adversarial>(model)) {
    // The adversarial objective's own step (D then G), on cycling batches.
    const int64_t batch = 64;
    auto data = torch::rand({10 * batch, 1, 28, 28}) * 2 - 1;
    struct Cycling : genzoo::BatchSource {
      torch::Tensor data;
      int64_t batch, i = 0;
      torch::Tensor next() override {
        const int64_t j = i++ % 10;
        return data.slice(0, j * batch, (j + 1) * batch);
      }
    } source;
    source.data = data;
    source.batch = batch;
    genzoo::Config config;
    config.set("objective.health_every", int64_t{1000000});  // no health probe inside the timing
    genzoo::AdversarialObjective objective(model, config);
    for (int64_t i = 0; i < 2; ++i) objective.step(source);
    int64_t steps = 0;
    auto start = genzoo::Clock::now();
    while (steps < 3 || genzoo::seconds_since(start) < seconds) {
      objective.step(source);
      ++steps;
    }
    const double elapsed = genzoo::seconds_since(start);
    std::printf("{\"impl\": \"genzoo\", \"model\": \"%s\", \"threads\": %d, \"steps\": %lld, \"seconds\": %.3f, "
                "\"images_per_s\": %.1f}\n",
                name.c_str(), used, static_cast<long long>(steps), elapsed, steps * batch / elapsed);
    return 0;
  }
  auto density = genzoo::as<genzoo::Density>(model);
  auto bound = genzoo::as<genzoo::VariationalBound>(model);
  // The training loss: the exact NLL, or the negative one-sample ELBO.
  auto loss_of = [&](const torch::Tensor& x) {
    return bound ? -bound->bound_terms(x, 1).bound.mean() : -density->log_prob(x).mean();
  };
  model->train();
  const int64_t batch = 100;
  auto data = torch::bernoulli(torch::full({10 * batch, 1, 28, 28}, ones));
  torch::optim::Adam opt(model->parameters(), torch::optim::AdamOptions(1e-3));
  auto step = [&](int64_t i) {
    auto x = data.slice(0, (i % 10) * batch, (i % 10 + 1) * batch);
    opt.zero_grad();
    auto loss = loss_of(x);
    loss.backward();
    opt.step();
  };
  for (int64_t i = 0; i < 2; ++i) step(i);  // warm-up: allocations, lazy init
  int64_t steps = 0;
  auto start = genzoo::Clock::now();
  while (steps < 3 || genzoo::seconds_since(start) < seconds) step(steps++);
  const double elapsed = genzoo::seconds_since(start);
  std::printf("{\"impl\": \"genzoo\", \"model\": \"%s\", \"threads\": %d, \"density\": %.3f, \"steps\": %lld, "
              "\"seconds\": %.3f, \"images_per_s\": %.1f}\n",
              name.c_str(), used, ones, static_cast<long long>(steps), elapsed, steps * batch / elapsed);
  return 0;
}
