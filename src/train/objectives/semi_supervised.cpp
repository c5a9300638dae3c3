#include "genzoo/train/objectives/semi_supervised.h"

#include <algorithm>

#include "genzoo/core/error.h"
#include "genzoo/train/distributed.h"

namespace genzoo {

namespace {

// log D(x) = lse - softplus(lse) and log(1 - D(x)) = -softplus(lse), lse the
// log-sum-exp of the K class logits [N, K] (the generated class's logit is 0).
torch::Tensor log_sum_exp_logits(const torch::Tensor& logits) { return torch::logsumexp(logits, 1); }  // [N]

}  // namespace

torch::Tensor supervised_loss(const torch::Tensor& logits, const torch::Tensor& labels) {
  return torch::nn::functional::cross_entropy(logits, labels);
}

torch::Tensor unsupervised_loss(const torch::Tensor& data_logits, const torch::Tensor& fake_logits) {
  auto lse_u = log_sum_exp_logits(data_logits), lse_f = log_sum_exp_logits(fake_logits);  // [B]
  // -log D(x) = -(lse - softplus(lse));  -log(1 - D(G(z))) = softplus(lse).
  return -(lse_u - torch::softplus(lse_u)).mean() + torch::softplus(lse_f).mean();
}

SemiSupervisedObjective::SemiSupervisedObjective(ModulePtr model, Config& c)
    : model_(std::move(model)),
      gan_(required<Adversarial>(model_, "the semi_supervised objective needs a GAN (ssgan)")),
      classifier_(required<SemiSupervised>(model_, "the semi_supervised objective needs a classifying discriminator (ssgan)")) {
  // Every key is read in both modes, so that the labels-only baseline runs
  // from the same recipe with one --set (the GAN's keys then go unused).
  unsupervised_ = c.get_bool("objective.unsupervised", unsupervised_);
  weight_ = c.get_double("objective.unsupervised_weight", weight_);
  if (!(weight_ >= 0) || !std::isfinite(weight_))
    throw Error("config key 'objective.unsupervised_weight' must be a finite number >= 0");
  feature_matching_ = c.get_bool("objective.feature_matching", feature_matching_);
  labelled_batch_ = c.get_int("objective.labelled_batch", labelled_batch_);
  if (labelled_batch_ < 1) throw Error("config key 'objective.labelled_batch' must be >= 1");
  OptimizerSpec defaults;
  defaults.lr = 3e-4;
  defaults.beta1 = 0.5;
  spec_d_ = OptimizerSpec::from_config(c, "optim_d", defaults);
  const auto& spec_d = spec_d_;
  d_params_ = gan_->discriminator_module().parameters();
  opt_d_ = make_optimizer(spec_d, d_params_);
  spec_g_ = OptimizerSpec::from_config(c, "optim_g", defaults);
  const auto& spec_g = spec_g_;
  if (unsupervised_) {
    g_params_ = gan_->generator_module().parameters();
    opt_g_ = make_optimizer(spec_g, g_params_);
  }
  clip_ = clip_grad_norm_from_config(c);
}

void SemiSupervisedObjective::begin_epoch(int64_t epoch) {
  set_learning_rate(*opt_d_, spec_d_.lr_at(epoch));
  if (opt_g_) set_learning_rate(*opt_g_, spec_g_.lr_at(epoch));
}

Metrics SemiSupervisedObjective::step(BatchSource& batches) {
  model_->train();
  auto x_u = batches.next();  // [B, ...]; its labels are not used
  auto images = classifier_->labelled_images(), labels = classifier_->labelled_labels();
  auto rows = torch::randint(images.size(0), {labelled_batch_}, torch::kLong);  // with replacement
  auto x_l = images.index_select(0, rows), y_l = labels.index_select(0, rows);
  Metrics m;
  opt_d_->zero_grad();
  auto logits_l = classifier_->class_logits(x_l);  // [L, K]
  auto sup = supervised_loss(logits_l, y_l);
  auto loss = sup;
  torch::Tensor fake;
  if (unsupervised_) {
    {
      torch::NoGradGuard no_grad;
      fake = gan_->generate(gan_->noise(x_u.size(0)), {});
    }
    auto logits_u = classifier_->class_logits(x_u), logits_f = classifier_->class_logits(fake);  // [B, K]
    auto unsup = unsupervised_loss(logits_u, logits_f);
    auto lse_u = log_sum_exp_logits(logits_u), lse_f = log_sum_exp_logits(logits_f);  // [B]
    loss = sup + weight_ * unsup;
    m.emplace_back("d_loss", unsup.item<double>());
    m.emplace_back("d_real", torch::sigmoid(lse_u).mean().item<double>());  // D(x) = Z/(Z+1) = sigmoid(lse)
    m.emplace_back("d_fake", torch::sigmoid(lse_f).mean().item<double>());
  }
  loss.backward();
  average_gradients(d_params_);
  if (clip_ > 0) torch::nn::utils::clip_grad_norm_(d_params_, clip_);
  opt_d_->step();
  gan_->constrain_discriminator();
  m.insert(m.begin(), {"sup_loss", sup.item<double>()});
  m.emplace_back("train_accuracy", (logits_l.argmax(1) == y_l).to(torch::kFloat64).mean().item<double>());
  if (!unsupervised_) return m;

  opt_g_->zero_grad();
  FrozenParameters frozen(d_params_);
  torch::Tensor g_loss;
  auto generated = gan_->generate(gan_->noise(x_u.size(0)), {});
  if (feature_matching_) {
    torch::Tensor real_features;
    {
      torch::NoGradGuard no_grad;
      real_features = classifier_->class_features(x_u).mean(0);  // [F]
    }
    g_loss = (classifier_->class_features(generated).mean(0) - real_features).pow(2).mean();
  } else {
    auto lse = log_sum_exp_logits(classifier_->class_logits(generated));
    g_loss = (torch::softplus(lse) - lse).mean();  // -log D(G(z))
  }
  g_loss.backward();
  average_gradients(g_params_);
  if (clip_ > 0) torch::nn::utils::clip_grad_norm_(g_params_, clip_);
  opt_g_->step();
  m.emplace_back("g_loss", g_loss.item<double>());
  return m;
}

Metrics SemiSupervisedObjective::evaluate(const Examples& split, int64_t batch_size) {
  model_->eval();
  auto s = classification_scores([this](const torch::Tensor& x) { return classifier_->class_logits(x); }, split,
                                 batch_size, "the semi-supervised GAN");
  return {{"error", s.error}, {"class_nll", s.class_nll}};
}

void SemiSupervisedObjective::save(torch::serialize::OutputArchive& archive) const {
  save_optimizer(archive, "optimizer_d", *opt_d_);
  if (opt_g_) save_optimizer(archive, "optimizer_g", *opt_g_);
}

void SemiSupervisedObjective::load(torch::serialize::InputArchive& archive) {
  load_optimizer(archive, "optimizer_d", *opt_d_);
  if (opt_g_) load_optimizer(archive, "optimizer_g", *opt_g_);
}

ObjectiveInfo semi_supervised_objective() {
  return {"semi_supervised", [](ModulePtr model, Config& config) -> std::unique_ptr<Objective> {
            return std::make_unique<SemiSupervisedObjective>(std::move(model), config);
          }};
}

}  // namespace genzoo
