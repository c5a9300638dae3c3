#include "genzoo/train/objectives/likelihood.h"

#include "genzoo/core/error.h"

namespace genzoo {

LikelihoodObjective::LikelihoodObjective(ModulePtr model, Config& config)
    : OneOptimizerObjective(model, config),
      model_(std::move(model)),
      density_(required<Density>(model_, "the likelihood objective needs a model with a density")) {}

Metrics LikelihoodObjective::step(BatchSource& batches) {
  auto batch = batches.next();
  model_->train();
  zero_grad();
  auto nll = -density_->log_prob(batch).mean();  // nats per example
  nll.backward();
  Metrics m{{"loss", nll.item<double>()}};
  clip_and_step(m);
  return m;
}

Metrics LikelihoodObjective::evaluate(const Examples& split, int64_t batch_size) {
  const torch::Tensor& data = split.x;
  torch::NoGradGuard no_grad;
  model_->eval();
  double total = 0;
  for (int64_t i = 0; i < data.size(0); i += batch_size) {
    auto x = data.slice(0, i, std::min(i + batch_size, data.size(0)));
    total += density_->log_prob(x).sum().item<double>();
  }
  return {{"nll", -total / static_cast<double>(data.size(0))}};
}

ObjectiveInfo likelihood_objective() {
  return {"likelihood", [](ModulePtr model, Config& config) -> std::unique_ptr<Objective> {
            return std::make_unique<LikelihoodObjective>(std::move(model), config);
          }};
}

}  // namespace genzoo
