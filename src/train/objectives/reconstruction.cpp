#include "genzoo/train/objectives/reconstruction.h"

#include "genzoo/core/error.h"
#include "genzoo/core/rng.h"

namespace genzoo {

ReconstructionObjective::ReconstructionObjective(ModulePtr model, Config& config)
    : OneOptimizerObjective(model, config),
      model_(std::move(model)),
      reconstructor_(required<Reconstructor>(model_, "the reconstruction objective needs an autoencoder (ae, dae)")) {}

std::vector<std::string> ReconstructionObjective::held_out_metrics() const {
  // A dae is selected by what it trains: restoring corrupted inputs.
  if (reconstructor_->denoises()) return {"denoising", "reconstruction"};
  return {"reconstruction"};
}

Metrics ReconstructionObjective::step(BatchSource& batches) {
  auto x = batches.next();
  model_->train();
  zero_grad();
  auto loss = -reconstructor_->reconstruction_log_prob(reconstructor_->corrupt_input(x), x).mean();  // nats
  loss.backward();
  Metrics m{{"loss", loss.item<double>()}};
  clip_and_step(m);
  return m;
}

Metrics ReconstructionObjective::evaluate(const Examples& split, int64_t batch_size) {
  const torch::Tensor& data = split.x;
  torch::NoGradGuard no_grad;
  model_->eval();
  // The same noise at every evaluation (common random numbers), so that
  // scores of successive epochs compare the models, not the draws; the
  // caller's stream is left as it was.
  RngStateGuard guard;
  torch::manual_seed(kEvaluationSeed);
  double clean = 0, noisy = 0;
  for (int64_t i = 0; i < data.size(0); i += batch_size) {
    auto x = data.slice(0, i, std::min(i + batch_size, data.size(0)));
    clean += reconstructor_->reconstruction_log_prob(x, x).sum().item<double>();
    if (reconstructor_->denoises())
      noisy += reconstructor_->reconstruction_log_prob(reconstructor_->corrupt_input(x), x).sum().item<double>();
  }
  const double n = static_cast<double>(data.size(0));
  Metrics m;
  if (reconstructor_->denoises()) m.emplace_back("denoising", -noisy / n);
  m.emplace_back("reconstruction", -clean / n);
  return m;
}

ObjectiveInfo reconstruction_objective() {
  return {"reconstruction", [](ModulePtr model, Config& config) -> std::unique_ptr<Objective> {
            return std::make_unique<ReconstructionObjective>(std::move(model), config);
          }};
}

}  // namespace genzoo
