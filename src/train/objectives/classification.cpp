#include "genzoo/train/objectives/classification.h"

#include <cmath>
#include <string>

#include "genzoo/core/error.h"

namespace genzoo {

ClassificationObjective::ClassificationObjective(ModulePtr model, Config& c)
    : OneOptimizerObjective(model, c),
      model_(std::dynamic_pointer_cast<ConvClassifierImpl>(model)),
      generative_(c.get_bool("objective.generative", false)) {
  if (!model_) throw Error("the classification objective trains a classifier");
  langevin_steps_ = c.get_int("objective.langevin_steps", langevin_steps_);
  if (langevin_steps_ < 1) throw Error("config key 'objective.langevin_steps' must be >= 1");
  ce_weight_ = c.get_double("objective.ce_weight", ce_weight_);
  if (!(ce_weight_ >= 0) || !std::isfinite(ce_weight_))
    throw Error("config key 'objective.ce_weight' must be >= 0 (the cross-entropy's weight beside generative learning)");
  if (generative_ && model_->options.chains() < model_->classes())
    throw Error("objective.chains = " + std::to_string(model_->options.chains()) +
                " leaves classes without a synthesised image: generative learning needs at least one chain per class (" +
                std::to_string(model_->classes()) + ")");
  if (!generative_ && ce_weight_ > 0)
    throw Error("objective.ce_weight weighs the cross-entropy beside generative learning: it needs objective.generative = true");
}

Metrics ClassificationObjective::step(BatchSource& batches) {
  auto x = batches.next();
  auto y = batches.labels();
  if (!y.defined()) throw Error("the classifier trains on labelled data, and the batch has no labels");
  model_->train();
  auto image = model_->to_model(x);
  Metrics m;
  if (!generative_) {
    zero_grad();
    auto logits = model_->scores(image);
    auto loss = torch::nn::functional::cross_entropy(logits, y);
    loss.backward();
    m = {{"loss", loss.item<double>()},
         {"accuracy", (logits.argmax(1) == y).to(torch::kFloat64).mean().item<double>()}};
    clip_and_step(m);
    return m;
  }
  ChainResult chain;
  {
    torch::NoGradGuard no_grad;  // Langevin takes input gradients only
    chain = model_->synthesise(model_->synthesis.clone(), model_->synthesis_labels, langevin_steps_);
    model_->synthesis.copy_(chain.x);
  }
  zero_grad();
  auto logits = model_->scores(image);
  auto f_data = logits.gather(1, y.view({-1, 1})).mean();
  // The negative phase of each class weighs as much as the class's share
  // of the batch: chain j of class c counts share_c / chains_c.
  const int64_t k = model_->classes();
  auto share = torch::bincount(y, c10::nullopt, k).to(chain.x.dtype()) / static_cast<double>(y.size(0));  // [K]
  auto labels = model_->synthesis_labels.to(torch::kLong);  // (Module::to(dtype) converts integer buffers too)
  auto per_class = torch::bincount(labels, c10::nullopt, k).to(chain.x.dtype());  // [K]
  auto weight = (share / per_class).index_select(0, labels);                       // [chains]
  auto f_synth = (weight * model_->class_score(chain.x, model_->synthesis_labels)).sum();
  auto loss = -(f_data - f_synth);
  torch::Tensor ce;
  if (ce_weight_ > 0) {
    ce = torch::nn::functional::cross_entropy(logits, y);
    loss = loss + ce_weight_ * ce;
  }
  loss.backward();
  m = {{"loss", loss.item<double>()},
       {"f_data", f_data.item<double>()},
       {"f_synth", f_synth.item<double>()},
       {"f_gap", (f_data - f_synth).item<double>()},
       {"input_grad", chain.grad_norm},
       {"accuracy", (logits.argmax(1) == y).to(torch::kFloat64).mean().item<double>()}};
  if (ce.defined()) m.emplace_back("cross_entropy", ce.item<double>());
  clip_and_step(m);
  return m;
}

Metrics ClassificationObjective::evaluate(const Examples& split, int64_t batch_size) {
  model_->eval();
  auto s = classification_scores([this](const torch::Tensor& x) { return model_->class_logits(x); }, split,
                                 batch_size, "the classifier");
  return {{"class_nll", s.class_nll}, {"error", s.error}};
}

ObjectiveInfo classification_objective() {
  return {"classification", [](ModulePtr model, Config& config) -> std::unique_ptr<Objective> {
            return std::make_unique<ClassificationObjective>(std::move(model), config);
          }};
}

}  // namespace genzoo
