#pragma once
// Variational training (Kingma & Welling 2014; Burda et al. 2016): maximise
// the model's bound with one optimizer,
//   k = 1:  loss = -(1/B) sum_b [ E_q[log p(x_b|z)] - beta_t KL(q(z|x_b) || p(z)) ]
//   k > 1:  loss = -(1/B) sum_b L_k(x_b)          (IWAE; beta must be 1)
// with beta_t = beta * min(1, t / warmup_steps) (KL annealing, Bowman et al.
// 2016; warmup_steps = 0: beta from the first step). One batch per step.
// Config: objective.beta (1), objective.warmup_steps (0), optim.*,
// train.clip_grad_norm. step() reports loss, reconstruction (-E_q log p(x|z)),
// kl and beta; evaluate() reports neg_elbo = -L_1 in nats per example, the
// validation score the recipes select by, and for k > 1 first
// neg_iwae_bound = -L_k with the training k (an IWAE trades L_1 for L_k, so
// it is selected by the bound it trains). A class-conditional model (the
// cvae) bounds log p(x | y) with the labels of the batches and splits.
#include <memory>

#include "genzoo/models/latent/bound.h"
#include "genzoo/train/objective.h"

namespace genzoo {

class ElboObjective : public OneOptimizerObjective {
 public:
  ElboObjective(ModulePtr model, Config& config);
  Metrics step(BatchSource& batches) override;
  Metrics evaluate(const Examples& data, int64_t batch_size) override;
  /// neg_elbo; for k > 1 first neg_iwae_bound (-L_k, what IWAE trains and
  /// is selected by), then neg_elbo.
  std::vector<std::string> held_out_metrics() const override;
  std::vector<std::string> progress_metrics() const override { return {"loss", "kl"}; }
  void begin_step(int64_t steps_done) override;
  /// The KL weight in force for the next step.
  double beta() const { return beta_now_; }

 private:
  /// The labels a class-conditional model needs (undefined for the others),
  /// or a genzoo::Error saying that `what` came without them.
  torch::Tensor labels_for(const torch::Tensor& labels, const torch::Tensor& x, const char* what) const;

  ModulePtr model_;
  std::shared_ptr<VariationalBound> bound_;
  double beta_ = 1, beta_now_ = 1;
  int64_t warmup_steps_ = 0;
};

/// {"elbo", a factory of ElboObjective}.
ObjectiveInfo elbo_objective();

}  // namespace genzoo
