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
//      as in the authors' code; from the mean image every step otherwise;
//      or, with objective.start = coarse and persistent = false, from the
//      step's training images averaged over objective.start_side x
//      start_side blocks, one image per chain, as the multigrid Generative
//      ConvNet of the same group starts its chains from a minimal version
//      of each image (Gao et al. 2018): distinct starts, so that many
//      chains do not all fall onto the piece the mean image lies on);
//   3. one optimizer step on loss = −(mean f(obs) − mean f(syn)) / P, P the
//      positions of f's last layer (the authors average the gradient over
//      positions), so its gradient is minus the one above; with
//      objective.clip_grad_max = c > 0, each parameter tensor's gradient is
//      first scaled down so that its largest entry is at most c in
//      magnitude (the authors' code rescales at 20).
// Layer by layer (objective.layer_steps = S > 0; the default scheme of the
// authors' release 1.3): stage s = 0, 1, ... covers steps [sS, (s+1)S) and
// the last stage runs on to the end; in stage s, f is the sum of the
// responses of convolution s + 1 (the lower ones keep learning), the
// chains restart from the mean image when a stage begins, and the learning
// rate is multiplied by objective.stage_lr_factor^s (0.5: their rate
// halves per added layer). Stage and depth follow from the step count, so
// a resumed run continues the same schedule.
// The model keeps the synthesised images (GenerativeConvNetImpl::synthesis,
// a buffer), so checkpoints hold them, a resumed run continues the same
// chains and sample() continues them too.
#include <memory>
#include <utility>

#include "genzoo/models/energy/generative_convnet.h"
#include "genzoo/models/energy/igebm.h"
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
  void begin_step(int64_t steps_done) override;

  /// The observed images of one step: random crops of `images` [B, C, H, W]
  /// (crops per image in turn) or the images themselves; model scale.
  torch::Tensor observed(const torch::Tensor& images) const;
  /// Chain starts for objective.start = coarse, [chains, C, H, W]: the
  /// observed images `images` [B, C, H, W] (model scale) cycled to the
  /// chain count, each pixel replaced by the mean of its block on a
  /// start_side x start_side grid.
  torch::Tensor coarse_starts(const torch::Tensor& images) const;
  /// The current synthesised images [chains, C, h, w] (model scale).
  const torch::Tensor& synthesised() const { return model_->synthesis; }

 private:
  torch::Tensor fresh_chains(int64_t n) const;

  std::shared_ptr<GenerativeConvNetImpl> model_;
  bool persistent_ = true, coarse_ = false;
  int64_t crop_ = 0, crops_ = 4, langevin_steps_ = 10, start_side_ = 4;
  int64_t layer_steps_ = 0;  // 0: end to end
  double stage_lr_factor_ = 0.5, clip_grad_max_ = 0;
  double score_noise_ = 0;
};

/// {"contrastive_divergence", a factory of ContrastiveDivergenceObjective}.
ObjectiveInfo contrastive_divergence_objective();

/// IGEBM's maximum-likelihood training (Du & Mordatch 2019, sec. 3.1-3.3):
/// the gradient of the log-likelihood of p(x) ∝ exp(−E(x)) is
///   −∇θ L = E_{x⁺ ~ data}[∇θ E(x⁺)] − E_{x⁻ ~ p}[∇θ E(x⁻)],
/// the second mean over Langevin samples. Each step:
///   1. the step's batch is x⁺ (with its labels for cigebm; the recipe
///      dequantises it, data.dequantize);
///   2. one chain per row starts from the replay buffer (the row's class
///      partition for cigebm), a share objective.reinit of them (and all
///      while the buffer is empty) from uniform noise, or every chain from
///      noise when objective.buffer = false; for cigebm a share
///      objective.cross_class (0) of the rows start from another non-empty
///      class partition instead (ReplayBufferImpl::mix_partitions), still
///      sampled under and stored with their own label: the authors' buffer
///      holds every class's samples in one pool, so their class-y chains
///      often start from another class's image, which raises E(x, y) on
///      images of other classes;
///   3. objective.langevin_steps steps of the model's sampler give x⁻,
///      which go back into the buffer;
///   4. one optimizer step on
///        loss = mean E(x⁺) − mean E(x⁻) + α (mean E(x⁺)² + mean E(x⁻)²),
///      α = objective.alpha (the paper's L2 penalty on energies, which keeps
///      them near 0), plus, for cigebm with objective.label_contrast = λ > 0,
///        λ · mean over rows of [E(x⁺, y) + log Σ_{c ∈ C} exp(−E(x⁺, c))],
///      C the classes present in the step's batch: the cross-entropy of
///      softmax(−E(x⁺, ·)) restricted to those classes (Li, Du, van de Ven
///      and Mordatch 2020's continual-learning objective, which contrasts
///      each image with one other class of the current task: the same when
///      a task has two classes; a batch of one class makes it 0). The
///      gains and biases of classes absent from the batch get no gradient
///      from it (they stay put under an optimizer without momentum or
///      weight decay, such as the recipe's Adam with β₁ = 0; the shared
///      weights still move and with them E(x, old)), so learning new
///      classes does not push the old classes' energies up directly; 0 (the
///      default) is the paper's objective, which never compares classes.
///      With objective.rehearse = r > 0 the term also scores round(r·B) samples drawn from the replay buffer's
///      partitions of classes absent from the batch, under their own
///      labels (rehearsal with the model's own samples, as generative
///      replay does with a separate generator), so those classes join C:
///      their energies are pulled down on their stored samples and pushed
///      up on the batch's images. Rehearsed rows enter no other term and
///      are not written back; step() reports their count, "rehearsed";
///   5. then one power iteration in every spectrally normalised layer.
/// step() returns "e_pos", "e_neg" (the mean energies), "e_gap"
/// (E⁺ − E⁻: negative when data sit below the samples), "input_grad" (mean
/// ‖∂E/∂x‖ along the chains, before clipping), "fresh" (the share of chains
/// started from noise), "label_ce" (the restricted cross-entropy, with
/// label_contrast > 0) and "loss". With train.diverge_above, any of them
/// beyond the bound (the loss holds α E²) rolls the run back (train.rollbacks).
///
/// evaluate() returns "score_fit": how well −∂E/∂x̃ at a noisy held-out
/// image x̃ = x + τε (τ = objective.score_noise, on [0, 1]) points back to
/// x, scale-free because Langevin samples exp(−E/T) at a temperature the
/// energy does not fix: the denoising score-matching loss (Vincent 2011)
/// of the score c·(−∂E/∂x̃) at the best single c >= 0 over the split, as a
/// share of the loss of the zero score,
///   score_fit = 1 − max(0, ρ)²,   ρ = ⟨∂E/∂x̃, ε⟩ / (‖∂E/∂x̃‖ ‖ε‖)
/// summed over the split. 1: no information, 0: every gradient points
/// along the noise. Lower is better.
class EbmContrastiveObjective : public OneOptimizerObjective {
 public:
  EbmContrastiveObjective(ModulePtr model, Config& config);
  Metrics step(BatchSource& batches) override;
  Metrics evaluate(const Examples& data, int64_t batch_size) override;
  std::vector<std::string> held_out_metrics() const override { return {"score_fit"}; }
  std::vector<std::string> progress_metrics() const override { return {"e_pos", "e_neg"}; }

 private:
  ModulePtr model_;
  IgebmImpl* net_ = nullptr;
  bool buffer_ = true;
  int64_t langevin_steps_ = 60;
  double reinit_ = 0.05, alpha_ = 1.0, score_noise_ = 0.1, cross_class_ = 0, label_contrast_ = 0, rehearse_ = 0;
  /// round(rehearse · B) (at least 1) stored samples of classes absent from
  /// the batch and their labels, the classes drawn uniformly among those
  /// with stored samples; undefined when there is none.
  std::pair<torch::Tensor, torch::Tensor> rehearsal(const torch::Tensor& labels) const;
};

/// mean over rows n of E(x_n, y_n) + log Σ_{c ∈ C} exp(−E(x_n, c)), C the
/// classes among `labels` [N] (int64), for a conditional `net`: the
/// cross-entropy of softmax(−E) over the classes present in a batch
/// (EbmContrastiveObjective's label_contrast term). Evaluates E only under
/// the classes in C.
torch::Tensor present_class_cross_entropy(IgebmImpl& net, const torch::Tensor& x, const torch::Tensor& labels);

/// {"ebm_contrastive", a factory of EbmContrastiveObjective}.
ObjectiveInfo ebm_contrastive_objective();

}  // namespace genzoo
