#include "genzoo/train/objectives/contrastive.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "genzoo/core/error.h"
#include "genzoo/core/rng.h"
#include "genzoo/models/spectral_norm.h"
#include "genzoo/sampling/energy.h"

namespace genzoo {
ContrastiveDivergenceObjective::ContrastiveDivergenceObjective(ModulePtr model, Config& c)
    : OneOptimizerObjective(model, c),
      model_(std::dynamic_pointer_cast<GenerativeConvNetImpl>(model)),
      persistent_(c.get_bool("objective.persistent", true)) {
  if (!model_) throw Error("the contrastive_divergence objective trains a genconvnet");
  crop_ = c.get_int("objective.crop", crop_);
  if (crop_ < 0) throw Error("config key 'objective.crop' must be >= 0 (0 = whole images)");
  crops_ = c.get_int("objective.crops", crops_);
  if (crops_ < 1) throw Error("config key 'objective.crops' must be >= 1 (crops per training image and step)");
  if (c.get_int("objective.chains", 1) != model_->options.chains())
    throw Error("objective.chains = " + std::to_string(c.get_int("objective.chains", 1)) + " but the model keeps " +
                std::to_string(model_->options.chains()) + " synthesised images");
  langevin_steps_ = c.get_int("objective.langevin_steps", langevin_steps_);
  if (langevin_steps_ < 1) throw Error("config key 'objective.langevin_steps' must be >= 1");
  score_noise_ = c.get_double("objective.score_noise", score_noise_);
  if (!(score_noise_ >= 0) || !std::isfinite(score_noise_))
    throw Error("config key 'objective.score_noise' must be >= 0 (the noise sd of the held-out score; 0 = model.sigma)");
  const std::string start = c.get_string("objective.start", "mean");
  if (start != "mean" && start != "coarse")
    throw Error("config key 'objective.start' must be mean or coarse, got '" + start + "'");
  coarse_ = start == "coarse";
  start_side_ = c.get_int("objective.start_side", start_side_);
  if (start_side_ < 1) throw Error("config key 'objective.start_side' must be >= 1 (blocks per side of a coarse start)");
  if (coarse_ && persistent_)
    throw Error("objective.start = coarse starts the chains from the step's training images every step: set "
                "objective.persistent = false");
  if (coarse_ && crop_ > 0)
    throw Error("objective.start = coarse starts each chain from a whole training image: it needs objective.crop = 0");
  layer_steps_ = c.get_int("objective.layer_steps", layer_steps_);
  if (layer_steps_ < 0) throw Error("config key 'objective.layer_steps' must be >= 0 (steps per stage; 0 = end to end)");
  stage_lr_factor_ = c.get_double("objective.stage_lr_factor", stage_lr_factor_);
  if (!(stage_lr_factor_ > 0) || !std::isfinite(stage_lr_factor_))
    throw Error("config key 'objective.stage_lr_factor' must be a finite number > 0");
  if (layer_steps_ > 0 && !model_->options.staged())
    throw Error("objective.layer_steps needs a model built for it (the genconvnet factory reads the same key)");
  clip_grad_max_ = c.get_double("objective.clip_grad_max", clip_grad_max_);
  if (!(clip_grad_max_ >= 0) || !std::isfinite(clip_grad_max_))
    throw Error("config key 'objective.clip_grad_max' must be a finite number >= 0 (0 = off)");
}

void ContrastiveDivergenceObjective::begin_step(int64_t steps_done) {
  if (layer_steps_ == 0) return;
  const auto layers = static_cast<int64_t>(model_->options.layers().size());
  const int64_t stage = std::min(steps_done / layer_steps_, layers - 1);
  set_lr_multiplier(std::pow(stage_lr_factor_, static_cast<double>(stage)));
  if (model_->depth() != stage + 1) {
    // A new layer on top: f changes, and its chains start again from the
    // mean image, as the authors' code restarts them per layer.
    model_->set_depth(stage + 1);
    torch::NoGradGuard no_grad;
    model_->synthesis.zero_();
    model_->synthesis_steps.zero_();
  }
}

torch::Tensor ContrastiveDivergenceObjective::coarse_starts(const torch::Tensor& images) const {
  const auto& o = model_->options;
  const int64_t h = images.size(2), w = images.size(3), n = o.chains();
  if (h != o.height() || w != o.width())
    throw Error("objective.start = coarse: the training images are " + std::to_string(h) + " x " + std::to_string(w) +
                ", the chains " + std::to_string(o.height()) + " x " + std::to_string(o.width()));
  if (start_side_ > h || start_side_ > w)
    throw Error("objective.start_side = " + std::to_string(start_side_) + " is larger than the images");
  // The step's images cycled to one per chain, each replaced by its means
  // over a start_side x start_side grid of blocks (Gao et al. 2018's
  // "minimal version" of an image), back at full size.
  auto rows = torch::arange(n, torch::kLong).remainder(images.size(0));
  auto picked = images.index_select(0, rows);                                      // [n, C, h, w]
  auto coarse = torch::adaptive_avg_pool2d(picked, {start_side_, start_side_});    // [n, C, s, s]
  auto up = torch::nn::functional::interpolate(
      coarse, torch::nn::functional::InterpolateFuncOptions().size(std::vector<int64_t>{h, w}).mode(torch::kNearest));
  return up;  // [n, C, h, w], model scale like `images`
}

torch::Tensor ContrastiveDivergenceObjective::fresh_chains(int64_t n) const {
  const auto& o = model_->options;
  return torch::zeros({n, o.channels(), o.height(), o.width()}, model_->mean.options());  // the mean image
}

torch::Tensor ContrastiveDivergenceObjective::observed(const torch::Tensor& images) const {
  TORCH_CHECK(images.dim() == 4, "contrastive_divergence: expected images [B, C, H, W]");
  if (crop_ == 0) return model_->to_model(images);
  const int64_t h = images.size(2), w = images.size(3);
  if (crop_ > h || crop_ > w)
    throw Error("objective.crop = " + std::to_string(crop_) + " is larger than the training images (" +
                std::to_string(h) + " x " + std::to_string(w) + ")");
  std::vector<torch::Tensor> windows;
  for (int64_t b = 0; b < images.size(0); ++b)
    for (int64_t k = 0; k < crops_; ++k) {
      auto corner = torch::randint(0, 1 << 30, {2}, torch::kLong);
      const int64_t top = corner[0].item<int64_t>() % (h - crop_ + 1);
      const int64_t left = corner[1].item<int64_t>() % (w - crop_ + 1);
      windows.push_back(images[b].slice(1, top, top + crop_).slice(2, left, left + crop_));
    }
  return model_->to_model(torch::stack(windows));  // [B * crops, C, crop, crop]
}

Metrics ContrastiveDivergenceObjective::step(BatchSource& batches) {
  torch::Tensor obs = observed(batches.next());  // [B', C, h, w]
  model_->train();
  ChainResult chain;
  {
    torch::NoGradGuard no_grad;  // Langevin takes input gradients only
    // Persistent: the model's synthesised images; coarse: the step's
    // images' block means; else the mean image.
    torch::Tensor start = persistent_ ? model_->synthesis.clone()
                          : coarse_   ? coarse_starts(obs)
                                      : fresh_chains(model_->options.chains());
    chain = model_->synthesise(start, langevin_steps_);
  }
  // sample() continues from the last chains (persistent or coarse starts).
  if (persistent_ || coarse_) model_->keep_synthesis(chain.x, langevin_steps_);
  const auto positions = static_cast<double>(model_->positions(chain.x.size(2), chain.x.size(3)));
  const auto obs_positions = static_cast<double>(model_->positions(obs.size(2), obs.size(3)));
  zero_grad();
  auto f_data = model_->score(obs).mean() / obs_positions;       // per position
  auto f_synth = model_->score(chain.x).mean() / positions;      // per position
  auto loss = -(f_data - f_synth);
  loss.backward();
  Metrics m{{"loss", loss.item<double>()},
            {"f_data", f_data.item<double>()},
            {"f_synth", f_synth.item<double>()},
            {"f_gap", (f_data - f_synth).item<double>()},
            {"input_grad", chain.grad_norm}};
  if (layer_steps_ > 0) m.emplace_back("depth", static_cast<double>(model_->depth()));
  if (clip_grad_max_ > 0) {
    average_gradients_now();  // the clip acts on the global batch's gradient
    torch::NoGradGuard no_grad;
    for (auto& p : model_->parameters()) {
      if (!p.grad().defined()) continue;
      const double largest = p.grad().abs().max().item<double>();
      if (largest > clip_grad_max_) p.grad().mul_(clip_grad_max_ / largest);
    }
  }
  clip_and_step(m);
  return m;
}

Metrics ContrastiveDivergenceObjective::evaluate(const Examples& split, int64_t batch_size) {
  // Denoising score matching (Vincent 2011) per pixel: Ĩ = I + τε,
  //   J = mean ‖s(Ĩ) + (Ĩ − I)/τ²‖² / D,   s(Ĩ) = −∇E(Ĩ) = ∂f/∂Ĩ − Ĩ/σ²,
  // the squared distance between the model's score and that of the data
  // blurred by N(0, τ²I), up to a constant. It needs no normalising
  // constant and no smoothness of f (ReLU scores have jumps in ∂f/∂I), and
  // the blurred data's own density minimises it. Lower is better.
  model_->eval();
  auto generator = derived_generator(kEvaluationSeed, 1);  // the same noise at every evaluation
  const double tau = score_noise_ > 0 ? score_noise_ : model_->options.sigma();
  auto energy = [this](const torch::Tensor& image) { return model_->model_energy(image); };
  double total = 0;
  int64_t count = 0, pixels = 1;
  for (int64_t i = 0; i < split.x.size(0); i += batch_size) {
    auto image = model_->to_model(split.x.slice(0, i, std::min(i + batch_size, split.x.size(0))).detach());
    pixels = image[0].numel();
    auto noise = torch::randn(image.sizes(), generator, image.options());
    auto noisy = image + tau * noise;
    auto score = -input_gradient(energy, noisy);                 // [B, C, H, W]
    auto residual = score + noise / tau;                         // (Ĩ − I)/τ² = ε/τ
    total += residual.pow(2).flatten(1).sum(1).sum().item<double>();
    count += image.size(0);
  }
  return {{"score_matching", total / static_cast<double>(count) / static_cast<double>(pixels)}};
}

ObjectiveInfo contrastive_divergence_objective() {
  return {"contrastive_divergence", [](ModulePtr model, Config& config) -> std::unique_ptr<Objective> {
            return std::make_unique<ContrastiveDivergenceObjective>(std::move(model), config);
          }};
}

EbmContrastiveObjective::EbmContrastiveObjective(ModulePtr model, Config& c)
    : OneOptimizerObjective(model, c), model_(model), net_(igebm_core(model)) {
  if (!net_) throw Error("the ebm_contrastive objective trains an igebm or cigebm");
  buffer_ = c.get_bool("objective.buffer", buffer_);
  langevin_steps_ = c.get_int("objective.langevin_steps", langevin_steps_);
  if (langevin_steps_ < 1) throw Error("config key 'objective.langevin_steps' must be >= 1");
  reinit_ = c.get_double("objective.reinit", reinit_);
  if (!(reinit_ >= 0 && reinit_ <= 1))
    throw Error("config key 'objective.reinit' must be in [0, 1] (the share of chains restarted from noise)");
  alpha_ = c.get_double("objective.alpha", alpha_);
  if (!(alpha_ >= 0) || !std::isfinite(alpha_)) throw Error("config key 'objective.alpha' must be >= 0");
  score_noise_ = c.get_double("objective.score_noise", score_noise_);
  if (!(score_noise_ > 0) || !std::isfinite(score_noise_))
    throw Error("config key 'objective.score_noise' must be > 0 (the noise sd of the held-out score, on [0, 1])");
  cross_class_ = c.get_double("objective.cross_class", cross_class_);
  if (!(cross_class_ >= 0 && cross_class_ <= 1))
    throw Error("config key 'objective.cross_class' must be in [0, 1] (the share of a class's chains started from "
                "other classes' buffer samples)");
  if (cross_class_ > 0 && (net_->options.classes() == 0 || !buffer_))
    throw Error("objective.cross_class starts a class's chains from other classes' partitions of the replay buffer: "
                "it needs cigebm with objective.buffer = true");
  label_contrast_ = c.get_double("objective.label_contrast", label_contrast_);
  if (!(label_contrast_ >= 0) || !std::isfinite(label_contrast_))
    throw Error("config key 'objective.label_contrast' must be a finite number >= 0 (the weight of the cross-entropy "
                "over the batch's classes)");
  if (label_contrast_ > 0 && net_->options.classes() == 0)
    throw Error("objective.label_contrast compares an image's energies under the batch's classes: it needs cigebm");
  rehearse_ = c.get_double("objective.rehearse", rehearse_);
  if (!(rehearse_ >= 0 && rehearse_ <= 1))
    throw Error("config key 'objective.rehearse' must be in [0, 1] (rehearsed buffer rows per batch row)");
  if (rehearse_ > 0 && (label_contrast_ <= 0 || !buffer_))
    throw Error("objective.rehearse adds stored samples of classes absent from the batch to the label term: it needs "
                "objective.label_contrast > 0 and objective.buffer = true");
}

std::pair<torch::Tensor, torch::Tensor> EbmContrastiveObjective::rehearsal(const torch::Tensor& labels) const {
  // Classes with stored samples that the batch does not hold.
  std::vector<int64_t> old;
  auto present = torch::zeros({net_->options.classes()}, torch::kBool);
  present.index_fill_(0, labels, true);
  auto in_batch = present.accessor<bool, 1>();
  for (int64_t k = 0; k < net_->options.classes(); ++k)
    if (!in_batch[k] && net_->replay->size(k) > 0) old.push_back(k);
  if (old.empty()) return {};
  const auto m = std::max<int64_t>(1, std::llround(rehearse_ * static_cast<double>(labels.size(0))));
  auto which = torch::randint(static_cast<int64_t>(old.size()), {m}, torch::kLong);
  auto rows = torch::tensor(old, torch::kLong).index_select(0, which);
  return {net_->replay->draw(rows, 0.0).x, rows};
}

torch::Tensor present_class_cross_entropy(IgebmImpl& net, const torch::Tensor& x, const torch::Tensor& labels) {
  TORCH_CHECK(net.options.classes() > 0, "present_class_cross_entropy: the energy is unconditional");
  TORCH_CHECK(labels.dim() == 1 && labels.size(0) == x.size(0), "present_class_cross_entropy: one label per row");
  auto present = std::get<0>(at::_unique(labels, /*sorted=*/true));  // C, ascending
  const int64_t n = x.size(0), c = present.size(0);
  auto energies = net.class_energy(x.repeat_interleave(c, 0), present.repeat({n})).view({n, c});  // E(x_n, C_j)
  auto target = torch::searchsorted(present, labels);                                         // y_n's place in C
  return torch::nn::functional::cross_entropy(-energies, target);
}

Metrics EbmContrastiveObjective::step(BatchSource& batches) {
  torch::Tensor pos = batches.next();  // [B, C, H, W]
  torch::Tensor labels;
  if (net_->options.classes() > 0) {
    labels = batches.labels();
    if (!labels.defined()) throw Error("cigebm: the training batches carry no class labels");
    labels = labels.to(torch::kLong);
  }
  const int64_t b = pos.size(0);
  auto part = labels.defined() ? labels : torch::zeros({b}, torch::kLong);
  model_->train();
  ChainResult chain;
  double fresh = 1.0;
  {
    torch::NoGradGuard no_grad;  // Langevin takes input gradients only
    torch::Tensor start;
    if (buffer_) {
      // A share cross_class of class y's chains start from another class's
      // samples, so that E(., y) is pushed up on images of other classes.
      auto from = cross_class_ > 0 ? net_->replay->mix_partitions(part, cross_class_) : part;
      auto starts = net_->replay->draw(from, reinit_);
      start = starts.x;
      fresh = starts.fresh.to(torch::kFloat64).mean().item<double>();
    } else {
      start = torch::rand(pos.sizes());
    }
    chain = net_->run_chains(start, labels, langevin_steps_);
    if (buffer_) net_->replay->push(chain.x, part);
  }
  zero_grad();
  auto e_pos = net_->class_energy(pos, labels);      // [B]
  auto e_neg = net_->class_energy(chain.x, labels);  // [B]
  auto loss = e_pos.mean() - e_neg.mean() + alpha_ * (e_pos.pow(2).mean() + e_neg.pow(2).mean());
  torch::Tensor label_ce;
  int64_t rehearsed = 0;
  if (label_contrast_ > 0) {
    torch::Tensor ce_x = pos, ce_y = labels;
    if (rehearse_ > 0) {
      auto [x_old, y_old] = rehearsal(labels);
      if (y_old.defined()) {
        ce_x = torch::cat({pos, x_old.to(pos.dtype())});
        ce_y = torch::cat({labels, y_old});
        rehearsed = y_old.size(0);
      }
    }
    label_ce = present_class_cross_entropy(*net_, ce_x, ce_y);
    loss = loss + label_contrast_ * label_ce;
  }
  loss.backward();
  const double ep = e_pos.mean().item<double>(), en = e_neg.mean().item<double>();
  Metrics m{{"loss", loss.item<double>()}, {"e_pos", ep},     {"e_neg", en},
            {"e_gap", ep - en},            {"input_grad", chain.grad_norm}, {"fresh", fresh}};
  if (label_ce.defined()) m.emplace_back("label_ce", label_ce.item<double>());
  if (rehearse_ > 0) m.emplace_back("rehearsed", static_cast<double>(rehearsed));
  clip_and_step(m);
  if (net_->options.spectral_norm()) spectral_power_iteration(*net_);
  return m;
}

Metrics EbmContrastiveObjective::evaluate(const Examples& split, int64_t batch_size) {
  model_->eval();
  auto generator = derived_generator(kEvaluationSeed, 2);  // the same noise at every evaluation
  const bool conditional = net_->options.classes() > 0;
  if (conditional && !split.y.defined()) throw Error("cigebm: score_fit needs the held-out labels");
  double dot = 0, gg = 0, ee = 0;
  for (int64_t i = 0; i < split.x.size(0); i += batch_size) {
    const int64_t end = std::min(i + batch_size, split.x.size(0));
    auto x = split.x.slice(0, i, end).detach().to(torch::kFloat32);
    auto labels = conditional ? split.y.slice(0, i, end).to(torch::kLong) : torch::Tensor();
    auto noise = torch::randn(x.sizes(), generator, x.options());
    auto g = input_gradient([&](const torch::Tensor& v) { return net_->class_energy(v, labels); },
                            x + score_noise_ * noise);
    dot += (g.to(torch::kFloat64) * noise.to(torch::kFloat64)).sum().item<double>();
    gg += g.to(torch::kFloat64).pow(2).sum().item<double>();
    ee += noise.to(torch::kFloat64).pow(2).sum().item<double>();
  }
  const double rho = gg > 0 && ee > 0 ? dot / std::sqrt(gg * ee) : 0.0;
  const double fit = 1.0 - std::pow(std::max(rho, 0.0), 2);
  return {{"score_fit", fit}};
}

ObjectiveInfo ebm_contrastive_objective() {
  return {"ebm_contrastive", [](ModulePtr model, Config& config) -> std::unique_ptr<Objective> {
            return std::make_unique<EbmContrastiveObjective>(std::move(model), config);
          }};
}

}  // namespace genzoo
