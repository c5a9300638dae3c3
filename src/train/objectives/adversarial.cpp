#include "genzoo/train/objectives/adversarial.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "genzoo/core/error.h"
#include "genzoo/train/distributed.h"
#include "genzoo/core/rng.h"

namespace genzoo {

namespace {

constexpr int64_t kDiversitySamples = 64;

double total_grad_norm(const std::vector<torch::Tensor>& params) {
  double sq = 0;
  for (const auto& p : params)
    if (p.grad().defined()) sq += p.grad().pow(2).sum().item<double>();
  return std::sqrt(sq);
}

void add(Metrics& m, const std::string& name, double v) {
  for (auto& kv : m)
    if (kv.first == name) {
      kv.second += v;
      return;
    }
  m.emplace_back(name, v);
}

// Mean distance between distinct rows of x [N, D] (double).
double mean_pairwise_distance(const torch::Tensor& x) {
  const int64_t n = x.size(0);
  if (n < 2) return 0;
  return torch::cdist(x, x).sum().item<double>() / static_cast<double>(n * (n - 1));
}

}  // namespace

const EnumNames<GanLoss>& gan_loss_names() {
  static const EnumNames<GanLoss> names{
      {GanLoss::Minimax, "minimax"}, {GanLoss::NonSaturating, "non_saturating"}, {GanLoss::WganGp, "wgan_gp"}};
  return names;
}

torch::Tensor discriminator_loss(const torch::Tensor& real_logits, const torch::Tensor& fake_logits) {
  // -log sigmoid(l) = softplus(-l);  -log(1 - sigmoid(l)) = softplus(l).
  return torch::softplus(-real_logits).mean() + torch::softplus(fake_logits).mean();
}

torch::Tensor generator_loss(GanLoss loss, const torch::Tensor& fake_logits) {
  switch (loss) {
    case GanLoss::Minimax: return -torch::softplus(fake_logits).mean();        // mean log(1 - D(G(z)))
    case GanLoss::NonSaturating: return torch::softplus(-fake_logits).mean();  // mean -log D(G(z))
    case GanLoss::WganGp: break;
  }
  return -fake_logits.mean();
}

double energy_distance(const torch::Tensor& x, const torch::Tensor& y) {
  TORCH_CHECK(x.size(0) >= 2 && y.size(0) >= 2, "energy_distance needs at least 2 rows in each set");
  auto a = x.reshape({x.size(0), -1}).to(torch::kFloat64);  // [N, D]
  auto b = y.reshape({y.size(0), -1}).to(torch::kFloat64);  // [M, D]
  TORCH_CHECK(a.size(1) == b.size(1), "energy_distance: rows of ", a.size(1), " and ", b.size(1), " values");
  const double between = torch::cdist(a, b).mean().item<double>();
  return 2 * between - mean_pairwise_distance(a) - mean_pairwise_distance(b);
}

AdversarialObjective::AdversarialObjective(ModulePtr model, Config& c)
    : model_(std::move(model)),
      gan_(required<Adversarial>(model_, "the adversarial objective needs a generator and a discriminator (gan, dcgan, cgan)")),
      sampler_(required<Sampler>(model_, "the adversarial objective needs a model that samples")) {
  loss_ = c.get_enum("objective.loss", loss_, gan_loss_names());
  k_ = c.get_int("objective.k", k_);
  if (k_ < 1) throw Error("config key 'objective.k' must be >= 1 (discriminator steps per generator step)");
  if (loss_ == GanLoss::WganGp) {
    for (const auto& m : gan_->discriminator_module().modules())
      if (m->as<torch::nn::BatchNorm2d>() || m->as<torch::nn::BatchNorm1d>())
        throw Error("objective.loss = wgan_gp penalises each example's gradient, which BatchNorm in the "
                    "discriminator couples across the batch (Gulrajani et al. 2017 use none): use model.arch = mlp");
    gp_weight_ = c.get_double("objective.gp_weight", gp_weight_);
    if (!(gp_weight_ >= 0) || !std::isfinite(gp_weight_))
      throw Error("config key 'objective.gp_weight' must be a finite number >= 0");
  }
  r1_ = c.get_double("objective.r1", r1_);
  if (!(r1_ >= 0) || !std::isfinite(r1_)) throw Error("config key 'objective.r1' must be a finite number >= 0 (0 = off)");
  if (r1_ > 0 && loss_ == GanLoss::WganGp)
    throw Error("objective.r1 penalises the logistic discriminator's gradient on data; wgan_gp has its own penalty "
                "(objective.gp_weight)");
  r1_every_ = c.get_int("objective.r1_every", r1_every_);
  if (r1_every_ < 1) throw Error("config key 'objective.r1_every' must be >= 1 (D steps between R1 penalties)");
  OptimizerSpec defaults;
  defaults.lr = 2e-4;
  defaults.beta1 = 0.5;
  spec_g_ = OptimizerSpec::from_config(c, "optim_g", defaults);
  spec_d_ = OptimizerSpec::from_config(c, "optim_d", defaults);
  g_params_ = gan_->generator_module().parameters();
  d_params_ = gan_->discriminator_module().parameters();
  opt_g_ = make_optimizer(spec_g_, g_params_);
  opt_d_ = make_optimizer(spec_d_, d_params_);
  clip_ = clip_grad_norm_from_config(c);
  lr_decay_ = c.get_double("objective.lr_decay", lr_decay_);
  if (!(lr_decay_ >= 1) || !std::isfinite(lr_decay_))
    throw Error("config key 'objective.lr_decay' must be a finite number >= 1 (the learning rate is divided by it "
                "after every step; 1 = off)");
  lr_floor_ = c.get_double("objective.lr_floor", lr_floor_);
  if (!(lr_floor_ >= 0) || !std::isfinite(lr_floor_)) throw Error("config key 'objective.lr_floor' must be >= 0");
  if (c.has("objective.momentum_final")) {
    if (spec_g_.name != OptimizerKind::Sgd || spec_d_.name != OptimizerKind::Sgd)
      throw Error("objective.momentum_final ramps SGD momentum: set optim_g.name and optim_d.name to sgd");
    momentum_final_ = c.get_double("objective.momentum_final", 0.0);
    if (!(momentum_final_ >= 0 && momentum_final_ < 1))
      throw Error("config key 'objective.momentum_final' must be in [0, 1)");
    momentum_epochs_ = c.get_int("objective.momentum_epochs", momentum_epochs_);
    if (momentum_epochs_ < 1) throw Error("config key 'objective.momentum_epochs' must be >= 1");
  }
  health_every_ = c.get_int("objective.health_every", health_every_);
  if (health_every_ < 1) throw Error("config key 'objective.health_every' must be >= 1 (steps)");
  d_wins_loss_ = c.get_double("objective.d_wins_loss", d_wins_loss_);
  d_wins_steps_ = c.get_int("objective.d_wins_steps", d_wins_steps_);
  if (d_wins_steps_ < 1) throw Error("config key 'objective.d_wins_steps' must be >= 1");
  collapse_floor_ = c.get_double("objective.collapse_floor", collapse_floor_);
  if (!(collapse_floor_ >= 0 && collapse_floor_ < 1))
    throw Error("config key 'objective.collapse_floor' must be in [0, 1) (0 = no floor warning)");
  collapse_ratio_ = c.get_double("objective.collapse_ratio", collapse_ratio_);
  if (!(collapse_ratio_ >= 0 && collapse_ratio_ < 1))
    throw Error("config key 'objective.collapse_ratio' must be in [0, 1) (0 = no collapse warning)");
  eval_rows_ = c.get_int("objective.eval_rows", eval_rows_);
  if (eval_rows_ < 2) throw Error("config key 'objective.eval_rows' must be >= 2");
}

void AdversarialObjective::begin_epoch(int64_t epoch) {
  epoch_ = epoch;
  apply_schedules();
}

void AdversarialObjective::begin_step(int64_t steps_done) {
  steps_done_ = steps_done;
  apply_schedules();
}

// Pure functions of (epoch, steps done), so a resumed run needs no schedule
// state to match an uninterrupted one.
void AdversarialObjective::apply_schedules() {
  const double decay = lr_decay_ > 1 ? std::pow(lr_decay_, -static_cast<double>(steps_done_)) : 1.0;
  const double floor = lr_decay_ > 1 ? lr_floor_ : 0.0;  // the floor belongs to the per-step decay
  set_learning_rate(*opt_g_, std::max(spec_g_.lr_at(epoch_) * decay, floor));
  set_learning_rate(*opt_d_, std::max(spec_d_.lr_at(epoch_) * decay, floor));
  if (momentum_final_ >= 0) {
    const double t = std::min(1.0, static_cast<double>(epoch_) / static_cast<double>(momentum_epochs_));
    const std::pair<torch::optim::Optimizer*, const OptimizerSpec*> players[] = {{opt_g_.get(), &spec_g_},
                                                                                {opt_d_.get(), &spec_d_}};
    for (const auto& [opt, spec] : players) {
      const double m = spec->momentum + (momentum_final_ - spec->momentum) * t;
      for (auto& group : opt->param_groups())
        static_cast<torch::optim::SGDOptions&>(group.options()).momentum(m);
    }
  }
}

torch::Tensor AdversarialObjective::trimmed(const torch::Tensor& t) const {
  if (!t.defined()) return t;
  const int64_t n = t.size(0) / gan_->pack() * gan_->pack();
  return n == t.size(0) ? t : t.slice(0, 0, n);
}

int64_t AdversarialObjective::discriminator_step(BatchSource& batches, Metrics& sums, torch::Tensor& data_batch,
                                                bool penalise) {
  auto x = batches.next();
  auto y = batches.labels();
  if (gan_->needs_labels() && !y.defined())
    throw Error("the class-conditional GAN needs the class labels of its training batches, and the data have none");
  if (!gan_->needs_labels()) y = torch::Tensor();
  x = trimmed(x);
  y = trimmed(y);
  const int64_t m = x.size(0);
  if (m < gan_->pack())
    throw Error("a training batch of " + std::to_string(m) + " is smaller than one pack of model.pack = " +
                std::to_string(gan_->pack()));
  data_batch = x;
  torch::Tensor fake;
  {
    torch::NoGradGuard no_grad;
    fake = gan_->generate(gan_->noise(m), y);  // [m, ...]; the D-step fakes share the data's labels
  }
  opt_d_->zero_grad();
  if (penalise) x = x.detach().requires_grad_(true);
  auto real_logits = gan_->discriminate(x, y).squeeze(1);     // [m / pack]
  auto fake_logits = gan_->discriminate(fake, y).squeeze(1);  // [m / pack]
  torch::Tensor loss;
  if (loss_ == GanLoss::WganGp) {
    auto gap = real_logits.mean() - fake_logits.mean();  // the critic's estimate of W(p_data, p_g)
    // The gradient penalty on points between data and fakes: one e per
    // packed group, so a pack interpolates as a whole.
    std::vector<int64_t> shape(x.dim(), 1);
    shape[0] = m / gan_->pack();
    auto e = torch::rand(shape, x.options()).repeat_interleave(gan_->pack(), 0);  // [m, 1, ...]
    auto between = (e * x + (1 - e) * fake).detach().requires_grad_(true);
    auto critic = gan_->discriminate(between, y).sum();
    auto grad = torch::autograd::grad({critic}, {between}, {}, /*retain_graph=*/{}, /*create_graph=*/true)[0];
    auto norms = grad.reshape({m / gan_->pack(), -1}).norm(2, 1);  // [m / pack]
    auto penalty = (norms - 1).pow(2).mean();
    loss = -gap + gp_weight_ * penalty;
    add(sums, "wasserstein", gap.item<double>());
    add(sums, "gradient_penalty", penalty.item<double>());
  } else {
    loss = discriminator_loss(real_logits, fake_logits);
    if (penalise) {
      auto grad = torch::autograd::grad({real_logits.sum()}, {x}, {}, /*retain_graph=*/true, /*create_graph=*/true)[0];
      auto penalty = grad.reshape({m / gan_->pack(), -1}).pow(2).sum(1).mean();  // mean over logits of |grad|^2
      loss = loss + 0.5 * r1_ * static_cast<double>(r1_every_) * penalty;
      add(sums, "r1_penalty", penalty.item<double>());
    }
  }
  loss.backward();
  average_gradients(d_params_);
  add(sums, "d_loss", loss.item<double>());
  if (loss_ != GanLoss::WganGp) {  // a critic's value is no probability
    add(sums, "d_real", torch::sigmoid(real_logits).mean().item<double>());
    add(sums, "d_fake", torch::sigmoid(fake_logits).mean().item<double>());
  }
  add(sums, "d_grad_norm", total_grad_norm(d_params_));
  if (clip_ > 0) torch::nn::utils::clip_grad_norm_(d_params_, clip_);
  opt_d_->step();
  gan_->constrain_discriminator();
  return m;
}

double AdversarialObjective::generator_step(int64_t m, Metrics& out) {
  opt_g_->zero_grad();
  FrozenParameters frozen(d_params_);
  auto y = gan_->draw_labels(m);
  auto fake = gan_->generate(gan_->noise(m), y);                       // [m, ...]
  auto loss = generator_loss(loss_, gan_->discriminate(fake, y).squeeze(1));  // over m / pack logits
  loss.backward();
  average_gradients(g_params_);
  out.emplace_back("g_grad_norm", total_grad_norm(g_params_));
  if (clip_ > 0) torch::nn::utils::clip_grad_norm_(g_params_, clip_);
  opt_g_->step();
  return loss.item<double>();
}

Metrics AdversarialObjective::step(BatchSource& batches) {
  model_->train();
  Metrics sums;
  torch::Tensor x;
  int64_t m = 0, penalised = 0;
  for (int64_t i = 0; i < k_; ++i) {
    const bool penalise = r1_ > 0 && (steps_done_ * k_ + i) % r1_every_ == 0;
    penalised += penalise ? 1 : 0;
    m = discriminator_step(batches, sums, x, penalise);
  }
  Metrics m_out;  // means over the D steps (the lazy R1 penalty: over those it was computed on)
  for (const auto& [name, v] : sums)
    m_out.emplace_back(name, v / static_cast<double>(name == "r1_penalty" ? penalised : k_));
  double d_loss = 0;
  for (const auto& kv : m_out)
    if (kv.first == "d_loss") d_loss = kv.second;
  Metrics g_metrics;
  const double g_loss = generator_step(m, g_metrics);
  // The progress line's order: the two losses first.
  Metrics ordered{{"d_loss", d_loss}, {"g_loss", g_loss}};
  for (const auto& kv : m_out)
    if (kv.first != "d_loss") ordered.push_back(kv);
  for (const auto& kv : g_metrics) ordered.push_back(kv);
  check_health(ordered, d_loss, x, steps_done_);
  return ordered;
}

double AdversarialObjective::diversity(const torch::Tensor& x) {
  torch::NoGradGuard no_grad;
  // Fixed noise (common random numbers across checks), drawn apart from the
  // training stream.
  RngStateGuard guard;
  torch::manual_seed(kEvaluationSeed);
  const int64_t n = std::min<int64_t>(kDiversitySamples, std::max<int64_t>(x.size(0), 2));
  auto samples = sampler_->sample(n);
  auto data = x;
  if (features_) {
    samples = features_(samples);
    data = features_(data);
  }
  samples = samples.reshape({n, -1}).to(torch::kFloat64);
  data = data.reshape({x.size(0), -1}).to(torch::kFloat64);
  const double real = mean_pairwise_distance(data);
  return real > 0 ? mean_pairwise_distance(samples) / real : 0.0;
}

void AdversarialObjective::check_health(Metrics& m, double d_loss, const torch::Tensor& x, int64_t steps_done) {
  char text[400];
  if (loss_ != GanLoss::WganGp) {
    d_wins_run_ = d_loss < d_wins_loss_ ? d_wins_run_ + 1 : 0;
    if (d_wins_run_ == d_wins_steps_) {
      std::snprintf(text, sizeof text,
                    "the discriminator wins outright: d_loss below %g for %lld steps in a row (step %lld); G's "
                    "gradient fades (try objective.loss = non_saturating, a lower optim_d.lr, or model.pack)",
                    d_wins_loss_, static_cast<long long>(d_wins_steps_), static_cast<long long>(steps_done + 1));
      warnings_.emplace_back(text);
    }
  }
  if ((steps_done + 1) % health_every_ != 0 || x.size(0) < 2) return;
  const double share = diversity(x);
  m.emplace_back("diversity", share);
  max_diversity_ = std::max(max_diversity_, share);
  // Collapsed from the start: no fall from a higher spread to see, but a
  // spread that stays below the floor check after check.
  low_run_ = share < collapse_floor_ ? low_run_ + 1 : 0;
  if (collapse_floor_ > 0 && low_run_ == kLowChecks) {
    std::snprintf(text, sizeof text,
                  "the generator's samples have stayed alike: their spread in %s has been below %.2f of the data's "
                  "for %lld checks in a row (now %.3f, step %lld)",
                  space_.c_str(), collapse_floor_, static_cast<long long>(kLowChecks), share,
                  static_cast<long long>(steps_done + 1));
    warnings_.emplace_back(text);
  }
  if (collapse_ratio_ > 0 && share < collapse_ratio_ * max_diversity_) {
    if (!collapse_reported_) {
      std::snprintf(text, sizeof text,
                    "the generator may be collapsing: its samples' spread in %s fell to %.3f of the data's (the "
                    "highest so far was %.3f) at step %lld",
                    space_.c_str(), share, max_diversity_, static_cast<long long>(steps_done + 1));
      warnings_.emplace_back(text);
      collapse_reported_ = true;
    }
  } else if (share >= 0.5 * (1 + collapse_ratio_) * max_diversity_) {
    // Re-armed only by a clear recovery (halfway back to the highest), so
    // a spread that hovers at the threshold does not warn at every check.
    collapse_reported_ = false;
  }
}

bool AdversarialObjective::use_feature_space(std::function<torch::Tensor(const torch::Tensor&)> features,
                                             const std::string& name) {
  features_ = std::move(features);
  space_ = features_ ? name : "the data space";
  return static_cast<bool>(features_);
}

std::vector<std::string> AdversarialObjective::take_warnings() {
  std::vector<std::string> out;
  out.swap(warnings_);
  return out;
}

Metrics AdversarialObjective::evaluate(const Examples& split, int64_t batch_size) {
  torch::NoGradGuard no_grad;
  model_->eval();
  RngStateGuard guard;
  torch::manual_seed(kEvaluationSeed);
  const int64_t n = trimmed(split.x.slice(0, 0, std::min(eval_rows_, split.x.size(0)))).size(0);
  TORCH_CHECK(n >= std::max<int64_t>(2, gan_->pack()), "the adversarial evaluation needs at least 2 held-out rows");
  auto x = split.x.slice(0, 0, n);
  torch::Tensor y;
  if (gan_->needs_labels()) {
    if (!split.y.defined())
      throw Error("the class-conditional GAN needs the class labels of its held-out rows, and the data have none");
    y = split.y.slice(0, 0, n);
  }
  // Samples for the held-out labels (cgan) or from the model's own prior.
  auto conditional = as<ClassConditional>(model_);
  torch::Tensor samples = y.defined() && conditional ? draw_given(*conditional, y, batch_size)
                                                     : draw_samples(*sampler_, n, batch_size);
  double d_loss = 0;
  int64_t chunks = 0;
  for (int64_t i = 0; i < n; i += batch_size) {
    const int64_t end = std::min(i + batch_size, n);
    auto yi = y.defined() ? y.slice(0, i, end) : y;
    auto xi = trimmed(x.slice(0, i, end)), si = trimmed(samples.slice(0, i, end));
    if (yi.defined()) yi = trimmed(yi);
    if (xi.size(0) == 0) continue;
    auto lr = gan_->discriminate(xi, yi).squeeze(1), lf = gan_->discriminate(si, yi).squeeze(1);
    d_loss += (loss_ == GanLoss::WganGp ? (lf.mean() - lr.mean()) : discriminator_loss(lr, lf)).item<double>();
    ++chunks;
  }
  return {{"energy_distance", energy_distance(x, samples)}, {"d_loss", chunks > 0 ? d_loss / chunks : 0.0}};
}

void AdversarialObjective::save(torch::serialize::OutputArchive& archive) const {
  save_optimizer(archive, "optimizer_g", *opt_g_);
  save_optimizer(archive, "optimizer_d", *opt_d_);
  archive.write("health", torch::tensor({static_cast<double>(d_wins_run_), max_diversity_,
                                         collapse_reported_ ? 1.0 : 0.0, static_cast<double>(low_run_)},
                                        torch::kFloat64));
}

void AdversarialObjective::load(torch::serialize::InputArchive& archive) {
  load_optimizer(archive, "optimizer_g", *opt_g_);
  load_optimizer(archive, "optimizer_d", *opt_d_);
  torch::Tensor health;
  archive.read("health", health);
  // 3 values in checkpoints written before the floor check existed.
  TORCH_CHECK(health.numel() == 3 || health.numel() == 4, "the checkpoint's adversarial health state has ",
              health.numel(), " values, not 4");
  d_wins_run_ = static_cast<int64_t>(health[0].item<double>());
  max_diversity_ = health[1].item<double>();
  collapse_reported_ = health[2].item<double>() != 0;
  low_run_ = health.numel() == 4 ? static_cast<int64_t>(health[3].item<double>()) : 0;
}

ObjectiveInfo adversarial_objective() {
  return {"adversarial", [](ModulePtr model, Config& config) -> std::unique_ptr<Objective> {
            return std::make_unique<AdversarialObjective>(std::move(model), config);
          }};
}

}  // namespace genzoo
