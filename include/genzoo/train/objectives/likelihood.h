#pragma once
// Maximum likelihood: minimise the mean negative log-likelihood of a batch,
//   loss = -(1/B) sum_b log p(x_b)   (nats per example),
// with one optimizer. For the explicit-density models log p is exact; a
// model whose Density gives a bound (Bound::LowerBound) trains on that bound.
// A class-conditional density (ConditionalDensity) trains on log p(x | y)
// with the batch's labels, and is scored on the marginal log p(x) ("nll")
// and on log p(x | y) ("nll_given_label") where the split has labels.
#include <memory>

#include "genzoo/train/objective.h"

namespace genzoo {

/// Reads optim.* and train.clip_grad_norm (0 = no clipping). One batch per
/// step; step() returns "loss" (and "grad_norm" when clipping), evaluate()
/// "nll".
class LikelihoodObjective : public OneOptimizerObjective {
 public:
  LikelihoodObjective(ModulePtr model, Config& config);
  Metrics step(BatchSource& batches) override;
  Metrics evaluate(const Examples& data, int64_t batch_size) override;
  std::vector<std::string> held_out_metrics() const override {
    return given_ ? std::vector<std::string>{"nll", "nll_given_label"} : std::vector<std::string>{"nll"};
  }
  std::vector<std::string> progress_metrics() const override { return {"loss"}; }

 private:
  ModulePtr model_;
  std::shared_ptr<Density> density_;
  std::shared_ptr<ConditionalDensity> given_;  // null unless class-conditional
};

/// {"likelihood", a factory of LikelihoodObjective}.
ObjectiveInfo likelihood_objective();

}  // namespace genzoo
