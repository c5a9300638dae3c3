#pragma once
// Adversarial training, Goodfellow et al. 2014, Algorithm 1. One step is
//   k times:  take a fresh minibatch of m data x (the next training batch)
//             and m noise draws z; ascend D's objective
//               E_x[log D(x)] + E_z[log(1 - D(G(z)))]
//             i.e. descend  d_loss = mean softplus(-l(x)) + mean softplus(l(G(z)))
//             (l = D's logit, D = sigmoid(l));
//   once:     m fresh noise draws; descend G's loss (objective.loss):
//               minimax          mean log(1 - D(G(z))) = -mean softplus(l(G(z)))   (the paper's game)
//               non_saturating   mean -log D(G(z))     =  mean softplus(-l(G(z)))  (what the paper trains)
//               wgan_gp          Gulrajani et al. 2017: D is a critic,
//                                d_loss = mean l(G(z)) - mean l(x) + gp_weight E[(|grad l(x~)| - 1)^2]
//                                on x~ = e x + (1 - e) G(z), e ~ U(0, 1); g_loss = -mean l(G(z)).
// objective.r1 = gamma > 0 (Mescheder, Geiger & Nowozin 2018, "Which training
// methods for GANs actually converge?", eq. 9) adds to the minimax or
// non-saturating d_loss the zero-centred penalty on the data
//   (gamma / 2) mean_x |grad_x l(x)|^2,
// one gradient per logit (per pack with PacGAN), logged as r1_penalty.
// objective.r1_every = n (1) applies it lazily (Karras et al. 2020,
// StyleGAN2, sec. 3.1): on every n-th D step only (D steps counted from the
// run's start, so a resumed run penalises the same steps), weighted by n so
// that its mean pull is unchanged.
// With a PacGAN discriminator (model.pack = p) every logit judges p
// examples, m is a multiple of p, and rows of an epoch's last partial batch
// beyond a multiple of p are not used. A class-conditional model (cgan)
// draws its D-step fakes with the labels of the data batch and its G-step
// fakes with labels from its class prior.
// Config: objective.loss (non_saturating), objective.k (1), objective.gp_weight
// (10), two optimizers optim_g.* and optim_d.* (train/optim.h; default Adam
// lr 2e-4, betas (0.5, 0.999), the DCGAN settings), train.clip_grad_norm
// (both players). The 2014 recipe's schedules: objective.lr_decay (1: lr is
// divided by it after every step, floor objective.lr_floor) and a linear
// SGD momentum ramp from optim_*.momentum at epoch 0 to
// objective.momentum_final at objective.momentum_epochs (off unless
// momentum_final is set).
// Health, every step: 
// d_loss, g_loss, d_real = mean D(x), d_fake = mean D(G(z)) (before D's
// update), d_grad_norm and g_grad_norm (before clipping); every
// objective.health_every steps (10; step numbers that are multiples of it,
// so train.log_every = 100 logs it) diversity: the
// mean distance between G's samples of 64 fixed noise draws over the mean
// distance between the batch's data, in the feature space offered by
// use_feature_space (genzoo train offers the shipped feature network's
// 128-d features for fashion-mnist and mnist-10k), else in the data space
// (pixels; the coordinates of 2-D points). Warnings (printed and
// in metrics.jsonl as {"event": "warning"}): D winning outright (d_loss
// below objective.d_wins_loss for objective.d_wins_steps steps in a row) and
// collapse (diversity below objective.collapse_ratio of the highest seen;
// once, until it recovers halfway back to the highest), and samples alike
// from the start (diversity below objective.collapse_floor, 0.1, at 20
// checks in a row: a generator collapsed before its spread ever rose).
// evaluate(): energy_distance between the held-out rows (the first
// objective.eval_rows) and as many samples (Szekely & Rizzo 2004, pixel
// space; lower is better, 0 iff the distributions agree), the validation
// score; and d_loss on those rows against those samples (a discriminator
// that overfits scores held-out data worse than training data).
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "genzoo/models/adversarial/gan.h"
#include "genzoo/train/objective.h"

namespace genzoo {

enum class GanLoss { Minimax, NonSaturating, WganGp };
/// "minimax", "non_saturating", "wgan_gp".
const EnumNames<GanLoss>& gan_loss_names();

/// D's loss on its logits for data [P] and for generated examples [P]:
/// -(mean log D(x) + mean log(1 - D(G(z)))) in nats (a scalar).
torch::Tensor discriminator_loss(const torch::Tensor& real_logits, const torch::Tensor& fake_logits);
/// G's loss on D's logits for generated examples [P]: minimax mean log(1 -
/// D(G(z))), non_saturating mean -log D(G(z)), wgan_gp -mean l (a scalar).
torch::Tensor generator_loss(GanLoss loss, const torch::Tensor& fake_logits);
/// The energy distance 2 E|X - Y| - E|X - X'| - E|Y - Y'| between the rows
/// of x [N, ...] and y [M, ...] (flattened; N, M >= 2), with the
/// within-set means over distinct pairs (U-statistics), in double.
double energy_distance(const torch::Tensor& x, const torch::Tensor& y);

class AdversarialObjective : public Objective {
 public:
  AdversarialObjective(ModulePtr model, Config& config);
  Metrics step(BatchSource& batches) override;
  Metrics evaluate(const Examples& data, int64_t batch_size) override;
  std::vector<std::string> held_out_metrics() const override { return {"energy_distance"}; }
  std::vector<std::string> progress_metrics() const override { return {"d_loss", "g_loss", "d_real", "d_fake"}; }
  void begin_epoch(int64_t epoch) override;
  void scale_learning_rates(double factor) override {
    spec_g_.lr *= factor;
    spec_d_.lr *= factor;
    lr_floor_ *= factor;  // a decayed rate at its floor must come down too
  }
  void begin_step(int64_t steps_done) override;
  std::vector<std::string> take_warnings() override;
  bool use_feature_space(std::function<torch::Tensor(const torch::Tensor&)> features,
                         const std::string& name) override;
  void save(torch::serialize::OutputArchive& archive) const override;
  void load(torch::serialize::InputArchive& archive) override;

  int64_t k() const { return k_; }
  /// The generator's (true) or the discriminator's optimizer, as the
  /// schedules left it.
  const torch::optim::Optimizer& optimizer(bool generator) const { return generator ? *opt_g_ : *opt_d_; }
  GanLoss loss() const { return loss_; }

 private:
  /// One D update on the next batch; adds d_loss, d_real, d_fake (and for
  /// wgan_gp the critic's gap and penalty; with `penalise`, the R1 penalty)
  /// to `sums`. Returns the batch size used.
  int64_t discriminator_step(BatchSource& batches, Metrics& sums, torch::Tensor& data_batch, bool penalise);
  double generator_step(int64_t m, Metrics& out);
  /// The share of diversity left (see above) on the data batch x.
  double diversity(const torch::Tensor& x);
  void check_health(Metrics& m, double d_loss, const torch::Tensor& x, int64_t steps_done);
  void apply_schedules();
  torch::Tensor trimmed(const torch::Tensor& t) const;

  ModulePtr model_;
  std::shared_ptr<Adversarial> gan_;
  std::shared_ptr<Sampler> sampler_;
  GanLoss loss_ = GanLoss::NonSaturating;
  int64_t k_ = 1;
  double gp_weight_ = 10;
  double r1_ = 0;  // R1's gamma; 0 = off
  int64_t r1_every_ = 1;
  OptimizerSpec spec_g_, spec_d_;
  std::unique_ptr<torch::optim::Optimizer> opt_g_, opt_d_;
  std::vector<torch::Tensor> g_params_, d_params_;
  double clip_ = 0;
  double lr_decay_ = 1, lr_floor_ = 0, momentum_final_ = -1;
  int64_t momentum_epochs_ = 250;
  int64_t epoch_ = 0, steps_done_ = 0;
  int64_t health_every_ = 10;
  double d_wins_loss_ = 0.05, collapse_ratio_ = 0.5, collapse_floor_ = 0.1;
  static constexpr int64_t kLowChecks = 20;
  int64_t d_wins_steps_ = 500;
  int64_t eval_rows_ = 2000;
  // Health state, kept in checkpoints: the current stretch of steps with D
  // winning, the highest diversity seen, whether a collapse was reported.
  int64_t d_wins_run_ = 0;
  double max_diversity_ = 0;
  bool collapse_reported_ = false;
  int64_t low_run_ = 0;  // health checks in a row below collapse_floor
  std::vector<std::string> warnings_;
  // Where diversity is measured: features of the data space (undefined:
  // the data space itself), and its name for the warning.
  std::function<torch::Tensor(const torch::Tensor&)> features_;
  std::string space_ = "the data space";
};

/// {"adversarial", a factory of AdversarialObjective}.
ObjectiveInfo adversarial_objective();

}  // namespace genzoo
