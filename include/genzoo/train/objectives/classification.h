#pragma once
// The classifier's two objectives (model `classifier`), chosen by
// objective.generative:
//   false  discriminative: the cross-entropy of the softmax of the class
//          scores f_c on each labelled batch;
//   true   generative (Xie et al. 2016, sec. 5): contrastive divergence for
//          the class-conditional models p(I | c) ∝ exp(f_c(I)) q(I) that
//          share the classifier's parameters,
//            ∂L/∂w = mean_obs ∂f_{y}(I)/∂w − Σ_c π_c mean_{syn of c} ∂f_{c}(Ĩ)/∂w,
//          π_c the share of class c in the batch, the synthesised Ĩ of
//          class c from objective.chains persistent chains (chain n of
//          class n mod K, kept in the model; at least one per class) run
//          objective.langevin_steps steps per iteration; plus
//          objective.ce_weight times the cross-entropy (0: the paper's
//          generative learning alone).
// Fine-tuning a trained classifier generatively is a new run started from
// its weights: --set objective.generative=true --set train.init_from=RUN.
// evaluate() returns the held-out "error" and "class_nll" in both modes.
#include <memory>

#include "genzoo/models/energy/classifier.h"
#include "genzoo/train/objective.h"

namespace genzoo {

class ClassificationObjective : public OneOptimizerObjective {
 public:
  ClassificationObjective(ModulePtr model, Config& config);
  Metrics step(BatchSource& batches) override;
  Metrics evaluate(const Examples& data, int64_t batch_size) override;
  std::vector<std::string> held_out_metrics() const override { return {"class_nll", "error"}; }
  std::vector<std::string> progress_metrics() const override {
    return generative_ ? std::vector<std::string>{"f_data", "f_synth", "accuracy"}
                       : std::vector<std::string>{"loss", "accuracy"};
  }

 private:
  std::shared_ptr<ConvClassifierImpl> model_;
  bool generative_ = false;
  int64_t langevin_steps_ = 20;
  double ce_weight_ = 0;
};

/// {"classification", a factory of ClassificationObjective}.
ObjectiveInfo classification_objective();

}  // namespace genzoo
