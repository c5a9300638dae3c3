#pragma once
// Semi-supervised learning with a GAN (Salimans et al. 2016, section 5): D
// is a K-class classifier whose logits l_1..l_K also say real vs generated
// (the generated class has logit 0), trained on a few labelled examples and
// on unlabelled data against G's samples:
//   L_D = L_sup + w L_unsup,
//   L_sup   = -mean log softmax(l(x_l))_{y_l}                 (the labelled batch)
//   L_unsup = -mean log D(x_u) - mean log(1 - D(G(z))),       D(x) = Z/(Z + 1), Z = sum_k exp l_k
//           = -mean [lse(l(x_u)) - softplus(lse(l(x_u)))] + mean softplus(lse(l(G(z))))
// and G by feature matching, L_G = |mean f(x_u) - mean f(G(z))|^2 / F over
// D's last hidden layer f of F units (or the non-saturating loss
// mean -log D(G(z))).
// One step: one unlabelled batch (the next training batch; its labels are
// not used) and objective.labelled_batch labelled rows drawn at random from
// the model's labelled subset, one D update, then one G update.
// objective.unsupervised = false trains the same D on the labelled rows
// alone (L_D = L_sup, no G update): the labels-only baseline of the same
// architecture. Config: objective.unsupervised (true),
// objective.unsupervised_weight w (0.5), objective.feature_matching (true),
// objective.labelled_batch (100), optim_g.*, optim_d.* (Adam lr 3e-4,
// beta1 0.5). evaluate(): class_nll (the classifier's cross-entropy) and
// error (1 - accuracy) on the split's labels; the recipes select best.pt by
// the validation error (train.select_by = "error").
#include <memory>

#include "genzoo/models/adversarial/gan.h"
#include "genzoo/train/objective.h"

namespace genzoo {

/// L_sup: the mean cross-entropy of class logits [N, K] against labels [N].
torch::Tensor supervised_loss(const torch::Tensor& logits, const torch::Tensor& labels);
/// L_unsup = -mean log D(x) - mean log(1 - D(G(z))) from the class logits of
/// data [B, K] and of generated examples [M, K], D = Z / (Z + 1).
torch::Tensor unsupervised_loss(const torch::Tensor& data_logits, const torch::Tensor& fake_logits);

class SemiSupervisedObjective : public Objective {
 public:
  SemiSupervisedObjective(ModulePtr model, Config& config);
  Metrics step(BatchSource& batches) override;
  Metrics evaluate(const Examples& data, int64_t batch_size) override;
  std::vector<std::string> held_out_metrics() const override { return {"class_nll", "error"}; }
  std::vector<std::string> progress_metrics() const override { return {"sup_loss", "d_loss", "g_loss"}; }
  /// optim_*.schedule, per epoch.
  void begin_epoch(int64_t epoch) override;
  void scale_learning_rates(double factor) override {
    spec_g_.lr *= factor;
    spec_d_.lr *= factor;
  }
  void save(torch::serialize::OutputArchive& archive) const override;
  void load(torch::serialize::InputArchive& archive) override;

 private:
  ModulePtr model_;
  std::shared_ptr<Adversarial> gan_;
  std::shared_ptr<SemiSupervised> classifier_;
  bool unsupervised_ = true, feature_matching_ = true;
  double weight_ = 0.5, clip_ = 0;
  int64_t labelled_batch_ = 100;
  OptimizerSpec spec_g_, spec_d_;
  std::unique_ptr<torch::optim::Optimizer> opt_g_, opt_d_;
  std::vector<torch::Tensor> g_params_, d_params_;
};

/// {"semi_supervised", a factory of SemiSupervisedObjective}.
ObjectiveInfo semi_supervised_objective();

}  // namespace genzoo
