#include "genzoo/train/objectives/likelihood.h"

#include "genzoo/core/error.h"

namespace genzoo {

LikelihoodObjective::LikelihoodObjective(ModulePtr model, Config& config)
    : OneOptimizerObjective(model, config),
      model_(std::move(model)),
      density_(required<Density>(model_, "the likelihood objective needs a model with a density")),
      given_(as<ConditionalDensity>(model_)) {}

Metrics LikelihoodObjective::step(BatchSource& batches) {
  auto batch = batches.next();
  model_->train();
  zero_grad();
  torch::Tensor log_p;
  if (given_) {
    auto labels = batches.labels();
    if (!labels.defined()) throw Error("a class-conditional density trains on log p(x | y): the data have no labels");
    log_p = given_->log_prob_given(batch, labels.to(torch::kLong));
  } else {
    log_p = density_->log_prob(batch);
  }
  auto nll = -log_p.mean();  // nats per example
  nll.backward();
  Metrics m{{"loss", nll.item<double>()}};
  clip_and_step(m);
  return m;
}

Metrics LikelihoodObjective::evaluate(const Examples& split, int64_t batch_size) {
  const torch::Tensor& data = split.x;
  torch::NoGradGuard no_grad;
  model_->eval();
  double total = 0, given = 0;
  const bool labelled = given_ && split.y.defined();
  for (int64_t i = 0; i < data.size(0); i += batch_size) {
    const int64_t end = std::min(i + batch_size, data.size(0));
    auto x = data.slice(0, i, end);
    total += density_->log_prob(x).sum().item<double>();
    if (labelled) given += given_->log_prob_given(x, split.y.slice(0, i, end).to(torch::kLong)).sum().item<double>();
  }
  const auto n = static_cast<double>(data.size(0));
  Metrics m{{"nll", -total / n}};
  if (labelled) m.emplace_back("nll_given_label", -given / n);
  return m;
}

ObjectiveInfo likelihood_objective() {
  return {"likelihood", [](ModulePtr model, Config& config) -> std::unique_ptr<Objective> {
            return std::make_unique<LikelihoodObjective>(std::move(model), config);
          }};
}

}  // namespace genzoo
