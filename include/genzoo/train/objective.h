#pragma once
// An Objective owns a model family's training step: its optimizer(s), its
// loss, its gradient clipping. The generic Trainer drives any Objective.
#include <torch/torch.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "genzoo/core/config.h"
#include "genzoo/models/model.h"
#include "genzoo/train/optim.h"

namespace genzoo {

/// Named scalars, in display order.
using Metrics = std::vector<std::pair<std::string, double>>;

class Objective {
 public:
  virtual ~Objective() = default;
  /// One optimisation step on a batch in the model's data space. Returns
  /// named scalars, "loss" first.
  virtual Metrics step(const torch::Tensor& batch) = 0;
  /// Held-out scores over a whole split, without gradients.
  virtual Metrics evaluate(const torch::Tensor& data, int64_t batch_size) = 0;
  /// Called before the first step of every epoch (learning-rate schedule).
  virtual void begin_epoch(int64_t epoch) = 0;
  virtual void save(torch::serialize::OutputArchive& archive) const = 0;
  virtual void load(torch::serialize::InputArchive& archive) = 0;
};

/// Maximum likelihood: minimise -mean log p(x) with one optimizer.
/// Reads optim.* and train.clip_grad_norm (0 = no clipping).
class LikelihoodObjective : public Objective {
 public:
  LikelihoodObjective(ModulePtr model, Config& config);
  Metrics step(const torch::Tensor& batch) override;
  Metrics evaluate(const torch::Tensor& data, int64_t batch_size) override;
  void begin_epoch(int64_t epoch) override;
  void save(torch::serialize::OutputArchive& archive) const override;
  void load(torch::serialize::InputArchive& archive) override;

 private:
  ModulePtr model_;
  std::shared_ptr<Density> density_;
  OptimizerSpec spec_;
  std::unique_ptr<torch::optim::Optimizer> optimizer_;
  double clip_grad_norm_ = 0;
};

/// The objective a registry entry names ("likelihood", ...).
std::unique_ptr<Objective> make_objective(const std::string& name, ModulePtr model, Config& config);

}  // namespace genzoo
