#include "genzoo/train/objective.h"

#include <cmath>
#include <sstream>

#include "genzoo/core/error.h"
#include "genzoo/train/distributed.h"

namespace genzoo {

double clip_grad_norm_from_config(Config& config) {
  const double clip = config.get_double("train.clip_grad_norm", 0.0);
  if (!(clip >= 0) || !std::isfinite(clip)) {
    std::ostringstream os;
    os << "config key 'train.clip_grad_norm' must be a finite number >= 0 (0 = no clipping), got " << clip;
    throw Error(os.str());
  }
  return clip;
}

OneOptimizerObjective::OneOptimizerObjective(const ModulePtr& model, Config& config)
    : model_(model),
      spec_(OptimizerSpec::from_config(config)),
      optimizer_(make_optimizer(spec_, model->parameters())),
      clip_grad_norm_(clip_grad_norm_from_config(config)) {}

void OneOptimizerObjective::clip_and_step(Metrics& m) {
  if (!averaged_) average_gradients(model_->parameters());  // the global batch's gradient when data-parallel
  averaged_ = false;
  if (clip_grad_norm_ > 0)
    m.emplace_back("grad_norm", torch::nn::utils::clip_grad_norm_(model_->parameters(), clip_grad_norm_));
  optimizer_->step();
}

void OneOptimizerObjective::average_gradients_now() {
  average_gradients(model_->parameters());
  averaged_ = true;
}

ClassificationScores classification_scores(const std::function<torch::Tensor(const torch::Tensor&)>& logits,
                                           const Examples& split, int64_t batch_size, const std::string& who) {
  if (!split.y.defined()) throw Error(who + " is scored on labelled rows, and the data have none");
  const int64_t n = split.x.size(0);
  if (n == 0) throw Error(who + " is scored on an empty split");
  torch::NoGradGuard no_grad;
  double wrong = 0, nll = 0;
  for (int64_t i = 0; i < n; i += batch_size) {
    const int64_t end = std::min(i + batch_size, n);
    auto l = logits(split.x.slice(0, i, end));
    auto y = split.y.slice(0, i, end);
    wrong += (l.argmax(1) != y).sum().item<double>();
    nll += torch::nn::functional::cross_entropy(
               l, y, torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum))
               .item<double>();
  }
  return {wrong / static_cast<double>(n), nll / static_cast<double>(n)};
}

void OneOptimizerObjective::begin_epoch(int64_t epoch) {
  epoch_ = epoch;
  set_learning_rate(*optimizer_, spec_.lr_at(epoch) * lr_multiplier_);
}

void OneOptimizerObjective::set_lr_multiplier(double multiplier) {
  lr_multiplier_ = multiplier;
  set_learning_rate(*optimizer_, spec_.lr_at(epoch_) * lr_multiplier_);
}

void save_optimizer(torch::serialize::OutputArchive& archive, const std::string& key,
                    const torch::optim::Optimizer& optimizer) {
  torch::serialize::OutputArchive opt;
  optimizer.save(opt);
  archive.write(key, opt);
}

void load_optimizer(torch::serialize::InputArchive& archive, const std::string& key, torch::optim::Optimizer& optimizer) {
  torch::serialize::InputArchive opt;
  archive.read(key, opt);
  // LibTorch's load keeps the state of a parameter the archive has none for
  // (not stepped yet when it was saved): a rollback to an early checkpoint
  // would keep the later moments. The archive's state, and only it.
  optimizer.state().clear();
  optimizer.load(opt);
}

void OneOptimizerObjective::save(torch::serialize::OutputArchive& archive) const {
  save_optimizer(archive, "optimizer", *optimizer_);
}

void OneOptimizerObjective::load(torch::serialize::InputArchive& archive) {
  load_optimizer(archive, "optimizer", *optimizer_);
}

}  // namespace genzoo
