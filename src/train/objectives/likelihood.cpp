#include "genzoo/train/objectives/likelihood.h"

#include "genzoo/core/error.h"

namespace genzoo {

LikelihoodObjective::LikelihoodObjective(ModulePtr model, Config& config)
    : model_(std::move(model)), density_(as<Density>(model_)) {
  if (!density_) throw Error("the likelihood objective needs a model with a density");
  spec_ = OptimizerSpec::from_config(config);
  optimizer_ = make_optimizer(spec_, model_->parameters());
  clip_grad_norm_ = clip_grad_norm_from_config(config);
}

Metrics LikelihoodObjective::step(BatchSource& batches) {
  auto batch = batches.next();
  model_->train();
  optimizer_->zero_grad();
  auto nll = -density_->log_prob(batch).mean();  // nats per example
  nll.backward();
  double grad_norm = 0;
  if (clip_grad_norm_ > 0)
    grad_norm = torch::nn::utils::clip_grad_norm_(model_->parameters(), clip_grad_norm_);
  optimizer_->step();
  Metrics m{{"loss", nll.item<double>()}};
  if (clip_grad_norm_ > 0) m.emplace_back("grad_norm", grad_norm);
  return m;
}

Metrics LikelihoodObjective::evaluate(const torch::Tensor& data, int64_t batch_size) {
  torch::NoGradGuard no_grad;
  model_->eval();
  double total = 0;
  for (int64_t i = 0; i < data.size(0); i += batch_size) {
    auto x = data.slice(0, i, std::min(i + batch_size, data.size(0)));
    total += density_->log_prob(x).sum().item<double>();
  }
  return {{"nll", -total / static_cast<double>(data.size(0))}};
}

void LikelihoodObjective::begin_epoch(int64_t epoch) { set_learning_rate(*optimizer_, spec_.lr_at(epoch)); }

void LikelihoodObjective::save(torch::serialize::OutputArchive& archive) const {
  torch::serialize::OutputArchive opt;
  optimizer_->save(opt);
  archive.write("optimizer", opt);
}

void LikelihoodObjective::load(torch::serialize::InputArchive& archive) {
  torch::serialize::InputArchive opt;
  archive.read("optimizer", opt);
  optimizer_->load(opt);
}

ObjectiveInfo likelihood_objective() {
  return {"likelihood", [](ModulePtr model, Config& config) -> std::unique_ptr<Objective> {
            return std::make_unique<LikelihoodObjective>(std::move(model), config);
          }};
}

}  // namespace genzoo
