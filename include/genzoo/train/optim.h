#pragma once
// Optimizers and learning-rate schedules from the config.
//   optim.name          adam | sgd                      (default adam)
//   optim.lr            learning rate                   (1e-3 for adam, 0.1 for sgd)
//   optim.beta1/beta2   Adam betas                      (0.9, 0.999)
//   optim.momentum      SGD momentum                    (0)
//   optim.weight_decay  L2 penalty                      (0)
//   optim.schedule      constant | step | exponential   (constant)
//   optim.gamma         decay factor                    (0.1 step, 0.95 exponential)
//   optim.step_epochs   epochs between step decays      (10)
// The schedule is a pure function of the epoch, so a resumed run needs no
// schedule state to match an uninterrupted one.
#include <torch/torch.h>

#include <memory>
#include <string>

#include "genzoo/core/config.h"

namespace genzoo {

enum class OptimizerKind { Adam, Sgd };
/// "adam", "sgd".
const EnumNames<OptimizerKind>& optimizer_names();
enum class LrSchedule { Constant, Step, Exponential };
/// "constant", "step", "exponential".
const EnumNames<LrSchedule>& schedule_names();

struct OptimizerSpec {
  OptimizerKind name = OptimizerKind::Adam;
  double lr = 1e-3, beta1 = 0.9, beta2 = 0.999, momentum = 0.0, weight_decay = 0.0;
  LrSchedule schedule = LrSchedule::Constant;
  double gamma = 0.1;
  int64_t step_epochs = 10;

  /// Reads and validates the keys under `prefix` ("optim" or, e.g.,
  /// "optim_d"); absent keys take the values of `defaults` (the learning
  /// rate too, when the optimizer is the default's).
  static OptimizerSpec from_config(Config& config, const std::string& prefix, const OptimizerSpec& defaults);
  static OptimizerSpec from_config(Config& config, const std::string& prefix = "optim");

  /// Learning rate in force during `epoch` (0-based).
  double lr_at(int64_t epoch) const;
};

std::unique_ptr<torch::optim::Optimizer> make_optimizer(const OptimizerSpec& spec,
                                                        std::vector<torch::Tensor> params);

/// Sets every parameter group's learning rate.
void set_learning_rate(torch::optim::Optimizer& optimizer, double lr);

}  // namespace genzoo
