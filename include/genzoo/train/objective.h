#pragma once
// An Objective owns a model family's training step: its optimizer(s), its
// loss, its gradient clipping, and how many batches one step takes. The
// generic Trainer drives any Objective. One file per family's objective
// lives in train/objectives/ (likelihood, elbo, reconstruction, adversarial); train/registry.h pairs
// every model with its objective.
#include <torch/torch.h>

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "genzoo/core/config.h"
#include "genzoo/core/error.h"
#include "genzoo/models/model.h"
#include "genzoo/train/optim.h"

namespace genzoo {

/// Named scalars, in display order.
using Metrics = std::vector<std::pair<std::string, double>>;

/// The training batches, in the trainer's epoch order, as an objective
/// consumes them. Each next() is the next mini-batch of the shuffled
/// training split with its per-batch noise (dynamic binarization,
/// dequantization) applied, and advances the run's position; an objective
/// that needs k batches for one step (k discriminator updates per
/// generator update, Goodfellow et al. 2014, Algorithm 1) calls it k times.
/// When a step needs more batches than the epoch has left, the next epoch
/// begins inside the step.
class BatchSource {
 public:
  virtual ~BatchSource() = default;
  virtual torch::Tensor next() = 0;
  /// The class labels of the batch the last next() returned, int64 [B];
  /// undefined when the data have none (class-conditional objectives need
  /// them).
  virtual torch::Tensor labels() const { return {}; }
};

/// The same batch every time (tests, and probes of one fixed batch).
class FixedBatch : public BatchSource {
 public:
  explicit FixedBatch(torch::Tensor batch, torch::Tensor labels = {})
      : batch_(std::move(batch)), labels_(std::move(labels)) {}
  torch::Tensor next() override {
    ++taken_;
    return batch_;
  }
  torch::Tensor labels() const override { return labels_; }
  int64_t taken() const { return taken_; }

 private:
  torch::Tensor batch_, labels_;
  int64_t taken_ = 0;
};

/// Rows of a split [N, ...] and their class labels (int64 [N], undefined
/// when the data have none), as an objective scores them.
struct Examples {
  Examples(torch::Tensor x, torch::Tensor y = {}) : x(std::move(x)), y(std::move(y)) {}  // NOLINT: implicit
  torch::Tensor x, y;
};

class Objective {
 public:
  virtual ~Objective() = default;
  /// One optimisation step: what train.steps counts and what the trainer's
  /// step number is. Takes its batches from `batches` (the likelihood
  /// objective takes one). Returns named scalars of the step.
  virtual Metrics step(BatchSource& batches) = 0;
  /// Held-out scores over a whole split (rows [N, ...] and their labels),
  /// without gradients; lower is better for every one of them.
  virtual Metrics evaluate(const Examples& data, int64_t batch_size) = 0;
  /// The names evaluate() returns, known before any training:
  /// train.select_by must be one of them.
  virtual std::vector<std::string> held_out_metrics() const = 0;
  /// The names of step()'s scalars the progress line shows (a GAN shows
  /// both its losses); the trainer logs all of them to metrics.jsonl.
  virtual std::vector<std::string> progress_metrics() const = 0;
  /// Called before the first step that starts in each epoch (learning-rate
  /// schedules).
  virtual void begin_epoch(int64_t epoch) {}
  /// Called before every step with the number of steps done so far
  /// (per-step schedules: warm-ups, annealing).
  virtual void begin_step(int64_t steps_done) {}
  /// Warnings raised since the last call (a discriminator winning
  /// outright, a collapsing generator): the trainer prints each and logs it
  /// to metrics.jsonl as {"event": "warning"}.
  virtual std::vector<std::string> take_warnings() { return {}; }
  /// Offers the objective a feature space for the images of this run: a
  /// map from a batch in the model's data space [N, C, H, W] to features
  /// [N, F], named `name` in messages (the shipped feature network of the
  /// dataset, installed by `genzoo train`). Returns true when the objective
  /// uses it (the adversarial objective measures its samples' diversity
  /// there); the default ignores it.
  virtual bool use_feature_space(std::function<torch::Tensor(const torch::Tensor&)> features,
                                 const std::string& name) {
    return false;
  }
  /// Multiplies every learning rate (the base rate of each schedule) by
  /// `factor` from now on: the trainer's rollback after a divergence.
  virtual void scale_learning_rates(double factor) = 0;
  virtual void save(torch::serialize::OutputArchive& archive) const = 0;
  virtual void load(torch::serialize::InputArchive& archive) = 0;
};

/// What every objective with one optimizer over all the model's parameters
/// shares: optim.* and train.clip_grad_norm read once, the learning-rate
/// schedule applied per epoch, the optimizer's state in checkpoints.
class OneOptimizerObjective : public Objective {
 public:
  void begin_epoch(int64_t epoch) override;
  void scale_learning_rates(double factor) override { spec_.lr *= factor; }
  void save(torch::serialize::OutputArchive& archive) const override;
  void load(torch::serialize::InputArchive& archive) override;

 protected:
  OneOptimizerObjective(const ModulePtr& model, Config& config);
  void zero_grad() { optimizer_->zero_grad(); }
  /// Scales the scheduled learning rate by `multiplier` from now on (a
  /// per-step schedule of the objective's own, e.g. a rate halved per
  /// stage); re-applied by every begin_epoch.
  void set_lr_multiplier(double multiplier);
  /// Data-parallel, averages the gradients over the workers (a no-op
  /// alone); then clips the gradient norm (when train.clip_grad_norm > 0)
  /// and steps; adds "grad_norm" (the norm before clipping) to `m` when
  /// clipping.
  void clip_and_step(Metrics& m);
  /// Averages the gradients over the workers now, for a step that changes
  /// them before clip_and_step (a clip of its own), which then does not
  /// average again.
  void average_gradients_now();

 private:
  ModulePtr model_;
  OptimizerSpec spec_;
  std::unique_ptr<torch::optim::Optimizer> optimizer_;
  double clip_grad_norm_ = 0;
  double lr_multiplier_ = 1;
  int64_t epoch_ = 0;
  bool averaged_ = false;  // average_gradients_now() ran for this step
};

/// The held-out scores of a classifier on labelled rows, in batches under
/// NoGradGuard: the share misclassified and the mean cross-entropy in nats.
/// Unlabelled or empty rows: a genzoo::Error naming `who`.
struct ClassificationScores {
  double error = 0, class_nll = 0;
};
ClassificationScores classification_scores(const std::function<torch::Tensor(const torch::Tensor&)>& logits,
                                           const Examples& split, int64_t batch_size, const std::string& who);

/// Builds an objective for a model from the config (optim.*, train.*).
using ObjectiveFactory = std::function<std::unique_ptr<Objective>(ModulePtr model, Config& config)>;

/// An objective by name, for the registry and `genzoo models`.
struct ObjectiveInfo {
  std::string name;  // "likelihood", ...
  ObjectiveFactory create;
};

/// The seed of the noise a held-out evaluation draws (a one-sample bound,
/// a corruption): the same at every evaluation, so that the scores of
/// successive epochs compare the models and not the draws. Objectives seed
/// it under an RngStateGuard, leaving the training stream as it was.
constexpr uint64_t kEvaluationSeed = 0x6576616c75617465ULL;  // "evaluate"

/// `model` as the interface an objective drives, or a genzoo::Error saying
/// `needs` ("the elbo objective needs a model with a variational bound").
template <typename Interface>
std::shared_ptr<Interface> required(const ModulePtr& model, const std::string& needs) {
  auto p = std::dynamic_pointer_cast<Interface>(model);
  if (!p) throw Error(needs);
  return p;
}

/// Turns off gradients of `params` for a scope and restores them on exit,
/// exceptions included (a discriminator's weights during the generator's
/// update: G's gradient flows through D, D's own weight gradients are waste).
class FrozenParameters {
 public:
  explicit FrozenParameters(std::vector<torch::Tensor>& params) : params_(params) {
    for (auto& p : params_) p.requires_grad_(false);
  }
  ~FrozenParameters() {
    for (auto& p : params_) p.requires_grad_(true);
  }
  FrozenParameters(const FrozenParameters&) = delete;
  FrozenParameters& operator=(const FrozenParameters&) = delete;

 private:
  std::vector<torch::Tensor>& params_;
};

/// An optimizer's state as the sub-archive `key` of a checkpoint, and back.
void save_optimizer(torch::serialize::OutputArchive& archive, const std::string& key,
                    const torch::optim::Optimizer& optimizer);
void load_optimizer(torch::serialize::InputArchive& archive, const std::string& key, torch::optim::Optimizer& optimizer);

/// train.clip_grad_norm (0 = off), validated: a finite number >= 0.
double clip_grad_norm_from_config(Config& config);

}  // namespace genzoo
