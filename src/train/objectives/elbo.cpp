#include "genzoo/train/objectives/elbo.h"

#include <algorithm>
#include <cmath>

#include "genzoo/core/error.h"
#include "genzoo/core/rng.h"

namespace genzoo {

ElboObjective::ElboObjective(ModulePtr model, Config& config)
    : OneOptimizerObjective(model, config),
      model_(std::move(model)),
      bound_(required<VariationalBound>(model_, "the elbo objective needs a model with a variational bound (vae, cvae)")) {
  beta_ = config.get_double("objective.beta", 1.0);
  if (!(beta_ >= 0) || !std::isfinite(beta_))
    throw Error("config key 'objective.beta' must be a finite number >= 0 (the KL weight)");
  warmup_steps_ = config.get_int("objective.warmup_steps", 0);
  if (warmup_steps_ < 0) throw Error("config key 'objective.warmup_steps' must be >= 0 (0 = no warm-up)");
  if (bound_->training_samples() > 1 && (beta_ != 1 || warmup_steps_ != 0))
    throw Error("objective.beta and objective.warmup_steps weight the ELBO's KL term; the k-sample bound (model.k = " +
                std::to_string(bound_->training_samples()) + ") has none: leave them at 1 and 0");
  beta_now_ = warmup_steps_ > 0 ? 0.0 : beta_;
}

void ElboObjective::begin_step(int64_t steps_done) {
  // Linear warm-up from 0 at the first step to beta after warmup_steps steps.
  beta_now_ = warmup_steps_ > 0 ? beta_ * std::min(1.0, static_cast<double>(steps_done) / warmup_steps_) : beta_;
}

Metrics ElboObjective::step(BatchSource& batches) {
  auto x = batches.next();
  auto y = labels_for(batches.labels(), x, "training batches");
  model_->train();
  zero_grad();
  const int64_t k = bound_->training_samples();
  BoundTerms t = bound_->labelled_bound_terms(x, y, k);
  auto loss = k == 1 ? -(t.reconstruction - beta_now_ * t.kl).mean() : -t.bound.mean();  // nats per example
  loss.backward();
  Metrics m{{"loss", loss.item<double>()},
            {"reconstruction", -t.reconstruction.mean().item<double>()},
            {"kl", t.kl.mean().item<double>()},
            {"beta", beta_now_}};
  clip_and_step(m);
  return m;
}

std::vector<std::string> ElboObjective::held_out_metrics() const {
  if (bound_->training_samples() > 1) return {"neg_iwae_bound", "neg_elbo"};
  return {"neg_elbo"};
}

torch::Tensor ElboObjective::labels_for(const torch::Tensor& labels, const torch::Tensor& x, const char* what) const {
  if (!bound_->needs_labels()) return {};
  if (!labels.defined())
    throw Error(std::string("the class-conditional model needs the class labels of its ") + what +
                ", and the data have none");
  if (labels.dim() != 1 || labels.size(0) != x.size(0))
    throw Error(std::string("the ") + what + " have " + std::to_string(x.size(0)) + " images and " +
                std::to_string(labels.numel()) + " labels");
  return labels;
}

Metrics ElboObjective::evaluate(const Examples& split, int64_t batch_size) {
  const torch::Tensor& data = split.x;
  const torch::Tensor labels = labels_for(split.y, data, "held-out rows");
  torch::NoGradGuard no_grad;
  model_->eval();
  // The same noise at every evaluation (common random numbers), so that
  // scores of successive epochs compare the models, not the draws; the
  // caller's stream is left as it was.
  RngStateGuard guard;
  torch::manual_seed(kEvaluationSeed);
  const int64_t k = bound_->training_samples();
  double total = 0, rec = 0, kl = 0, bound_k = 0;
  for (int64_t i = 0; i < data.size(0); i += batch_size) {
    const int64_t end = std::min(i + batch_size, data.size(0));
    auto x = data.slice(0, i, end);
    auto y = labels.defined() ? labels.slice(0, i, end) : labels;
    BoundTerms t = bound_->labelled_bound_terms(x, y, 1);
    total += t.bound.sum().item<double>();
    rec += t.reconstruction.sum().item<double>();
    kl += t.kl.sum().item<double>();
    if (k > 1) bound_k += bound_->labelled_bound_terms(x, y, k).bound.sum().item<double>();
  }
  const double n = static_cast<double>(data.size(0));
  Metrics m;
  if (k > 1) m.emplace_back("neg_iwae_bound", -bound_k / n);
  m.emplace_back("neg_elbo", -total / n);
  m.emplace_back("reconstruction", -rec / n);
  m.emplace_back("kl", kl / n);
  return m;
}

ObjectiveInfo elbo_objective() {
  return {"elbo", [](ModulePtr model, Config& config) -> std::unique_ptr<Objective> {
            return std::make_unique<ElboObjective>(std::move(model), config);
          }};
}

}  // namespace genzoo
