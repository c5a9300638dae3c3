#pragma once
// Contrastive divergence for the Generative ConvNet (Xie et al. 2016,
// eq. 4): the gradient of the mean log-likelihood of observed images is
//   ∂L/∂w = mean_obs ∂f(I; w)/∂w − E_p[∂f(I; w)/∂w],
// the second mean taken over images synthesised by Langevin dynamics from
// the current model. Each step:
//   1. objective.crops random crop x crop windows of the step's training
//      images (the whole images when objective.crop = 0) are the observed I;
//   2. objective.chains chains run objective.langevin_steps Langevin steps
//      (persistent across steps when objective.persistent: they continue
//      from the model's synthesised images, which start at the mean image
//      as in the authors' code; from the mean image every step otherwise);
//   3. one optimizer step on loss = −(mean f(obs) − mean f(syn)) / P, P the
//      positions of f's last layer (the authors average the gradient over
//      positions), so its gradient is minus the one above.
// The model keeps the synthesised images (GenerativeConvNetImpl::synthesis,
// a buffer), so checkpoints hold them, a resumed run continues the same
// chains and sample() continues them too.
#include <memory>

#include "genzoo/models/energy/generative_convnet.h"
#include "genzoo/train/objective.h"

namespace genzoo {

/// step() returns "f_data" and "f_synth" (f per position on the observed
/// and the synthesised images), "f_gap" (their difference: the
/// moment-matching residual, 0 at a fixed point of learning),
/// "input_grad" (mean ‖∂E/∂I‖ along the chains) and "loss". evaluate()
/// returns "score_matching": denoising score matching per pixel on the
/// whole held-out images at noise sd objective.score_noise (0 = σ), which
/// needs no normalising constant (see evaluate).
class ContrastiveDivergenceObjective : public OneOptimizerObjective {
 public:
  ContrastiveDivergenceObjective(ModulePtr model, Config& config);
  Metrics step(BatchSource& batches) override;
  Metrics evaluate(const Examples& data, int64_t batch_size) override;
  std::vector<std::string> held_out_metrics() const override { return {"score_matching"}; }
  std::vector<std::string> progress_metrics() const override { return {"f_data", "f_synth"}; }

  /// The observed images of one step: random crops of `images` [B, C, H, W]
  /// (crops per image in turn) or the images themselves; model scale.
  torch::Tensor observed(const torch::Tensor& images) const;
  /// The current synthesised images [chains, C, h, w] (model scale).
  const torch::Tensor& synthesised() const { return model_->synthesis; }

 private:
  torch::Tensor fresh_chains(int64_t n) const;

  std::shared_ptr<GenerativeConvNetImpl> model_;
  bool persistent_ = true;
  int64_t crop_ = 0, crops_ = 4, langevin_steps_ = 10;
  double score_noise_ = 0;
};

/// {"contrastive_divergence", a factory of ContrastiveDivergenceObjective}.
ObjectiveInfo contrastive_divergence_objective();

}  // namespace genzoo
