#include "genzoo/train/optim.h"

#include <cmath>
#include <limits>

#include "genzoo/core/error.h"

namespace genzoo {

namespace {
double positive(Config& c, const std::string& key, double fallback) {
  double v = c.get_double(key, fallback);
  if (!(v > 0) || !std::isfinite(v))
    throw Error("config key '" + key + "' must be a positive number, got " + std::to_string(v));
  return v;
}
double in_unit_interval(Config& c, const std::string& key, double fallback) {
  double v = c.get_double(key, fallback);
  if (!(v >= 0 && v < 1)) throw Error("config key '" + key + "' must be in [0, 1), got " + std::to_string(v));
  return v;
}
}  // namespace

const EnumNames<OptimizerKind>& optimizer_names() {
  static const EnumNames<OptimizerKind> names{{OptimizerKind::Adam, "adam"}, {OptimizerKind::Sgd, "sgd"}};
  return names;
}

const EnumNames<LrSchedule>& schedule_names() {
  static const EnumNames<LrSchedule> names{
      {LrSchedule::Constant, "constant"}, {LrSchedule::Step, "step"}, {LrSchedule::Exponential, "exponential"}};
  return names;
}

OptimizerSpec OptimizerSpec::from_config(Config& c, const std::string& p) { return from_config(c, p, OptimizerSpec{}); }

OptimizerSpec OptimizerSpec::from_config(Config& c, const std::string& p, const OptimizerSpec& defaults) {
  OptimizerSpec s = defaults;
  s.name = c.get_enum(p + ".name", s.name, optimizer_names());
  s.lr = positive(c, p + ".lr", s.name == defaults.name ? defaults.lr : s.name == OptimizerKind::Sgd ? 0.1 : 1e-3);
  // Parameters are float32: a larger step cannot even be represented.
  if (s.lr > std::numeric_limits<float>::max())
    throw Error("config key '" + p + ".lr' is beyond the float range: " + std::to_string(s.lr));
  // Every optimizer's keys are read, so that a config naming both is valid.
  s.beta1 = in_unit_interval(c, p + ".beta1", s.beta1);
  s.beta2 = in_unit_interval(c, p + ".beta2", s.beta2);
  s.momentum = in_unit_interval(c, p + ".momentum", s.momentum);
  s.weight_decay = c.get_double(p + ".weight_decay", s.weight_decay);
  if (!(s.weight_decay >= 0) || !std::isfinite(s.weight_decay))
    throw Error("config key '" + p + ".weight_decay' must be a finite number >= 0");
  s.schedule = c.get_enum(p + ".schedule", s.schedule, schedule_names());
  s.gamma = positive(c, p + ".gamma", s.schedule == LrSchedule::Exponential ? 0.95 : 0.1);
  s.step_epochs = c.get_int(p + ".step_epochs", s.step_epochs);
  if (s.step_epochs < 1) throw Error("config key '" + p + ".step_epochs' must be >= 1");
  return s;
}

double OptimizerSpec::lr_at(int64_t epoch) const {
  switch (schedule) {
    case LrSchedule::Step: return lr * std::pow(gamma, static_cast<double>(epoch / step_epochs));
    case LrSchedule::Exponential: return lr * std::pow(gamma, static_cast<double>(epoch));
    case LrSchedule::Constant: break;
  }
  return lr;
}

std::unique_ptr<torch::optim::Optimizer> make_optimizer(const OptimizerSpec& s,
                                                        std::vector<torch::Tensor> params) {
  if (s.name == OptimizerKind::Sgd)
    return std::make_unique<torch::optim::SGD>(
        params, torch::optim::SGDOptions(s.lr).momentum(s.momentum).weight_decay(s.weight_decay));
  return std::make_unique<torch::optim::Adam>(
      params,
      torch::optim::AdamOptions(s.lr).betas({s.beta1, s.beta2}).weight_decay(s.weight_decay));
}

void set_learning_rate(torch::optim::Optimizer& optimizer, double lr) {
  for (auto& group : optimizer.param_groups()) group.options().set_lr(lr);
}

}  // namespace genzoo
