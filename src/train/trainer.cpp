#include "genzoo/train/trainer.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

#include "genzoo/core/error.h"
#include "genzoo/core/files.h"
#include "genzoo/core/rng.h"
#include "genzoo/core/timer.h"
#include "genzoo/data/batches.h"
#include "genzoo/report/png_grid.h"

namespace genzoo {

namespace {


std::string format_duration(double s) {
  if (!std::isfinite(s) || s < 0) return "--:--";
  auto total = static_cast<int64_t>(s + 0.5);
  char buf[32];
  if (total >= 3600)
    std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", static_cast<long long>(total / 3600),
                  static_cast<long long>(total / 60 % 60), static_cast<long long>(total % 60));
  else
    std::snprintf(buf, sizeof buf, "%lld:%02lld", static_cast<long long>(total / 60),
                  static_cast<long long>(total % 60));
  return buf;
}

// Progress on stderr: a redrawn bar on a terminal, a plain line every few
// seconds otherwise (logs, CI).
class Progress {
 public:
  explicit Progress(bool tty) : tty_(tty), last_(Clock::now()) {}

  // fraction in [0,1] (or < 0 when unknown), eta in seconds.
  void update(const std::string& where, double fraction, double loss, double rate, double eta,
              bool force = false) {
    double since = seconds_since(last_);
    if (!force && since < (tty_ ? 0.2 : 10.0)) return;
    last_ = Clock::now();
    char stats[160];
    std::snprintf(stats, sizeof stats, "loss %.4g  %.0f ex/s  ETA %s", loss, rate,
                  format_duration(eta).c_str());
    if (tty_) {
      const int width = 24;
      int filled = fraction < 0 ? 0 : static_cast<int>(std::lround(fraction * width));
      std::string bar(static_cast<size_t>(filled), '#');
      bar.resize(width, '.');
      std::fprintf(stderr, "\r%s [%s] %3.0f%%  %s   ", where.c_str(), bar.c_str(),
                   fraction < 0 ? 0.0 : 100 * fraction, stats);
      dirty_ = true;
    } else {
      std::fprintf(stderr, "%s  %s\n", where.c_str(), stats);
    }
    std::fflush(stderr);
  }

  void line(const std::string& text) {
    if (dirty_) std::fputc('\n', stderr);
    dirty_ = false;
    std::fprintf(stderr, "%s\n", text.c_str());
    std::fflush(stderr);
  }

  ~Progress() {
    if (dirty_) std::fputc('\n', stderr);
  }

 private:
  bool tty_;
  bool dirty_ = false;
  Clock::time_point last_;
};

bool finite_metrics(const Metrics& m) {
  for (const auto& kv : m)
    if (!std::isfinite(kv.second)) return false;
  return true;
}

}  // namespace

TrainerOptions TrainerOptions::from_config(Config& c) {
  TrainerOptions o;
  // With no budget anywhere, train 10 epochs; an explicit zero budget (e.g.
  // --steps 0) means no training at all, only a checkpoint of the initial model.
  if (!c.has("train.epochs") && !c.has("train.steps") && !c.has("train.time_limit"))
    c.set("train.epochs", int64_t{10});
  o.epochs = c.get_int("train.epochs", 0);
  o.steps = c.get_int("train.steps", 0);
  o.time_limit = c.get_double("train.time_limit", 0.0);
  if (o.epochs < 0) throw Error("--epochs must be >= 0");
  if (o.steps < 0) throw Error("--steps must be >= 0");
  if (!(o.time_limit >= 0) || !std::isfinite(o.time_limit))
    throw Error("--time-limit must be a finite number of seconds >= 0");
  o.batch_size = c.get_int("train.batch_size", o.batch_size);
  if (o.batch_size < 1) throw Error("config key 'train.batch_size' must be >= 1");
  int64_t seed = c.get_int("train.seed", 0);
  if (seed < 0) throw Error("--seed must be >= 0");
  o.seed = static_cast<uint64_t>(seed);
  o.log_every = c.get_int("train.log_every", o.log_every);
  if (o.log_every < 1) throw Error("config key 'train.log_every' must be >= 1");
  o.sample_every = c.get_int("train.sample_every", o.sample_every);
  if (o.sample_every < 0) throw Error("config key 'train.sample_every' must be >= 0");
  o.sample_count = c.get_int("train.sample_count", o.sample_count);
  if (o.sample_count < 1) throw Error("config key 'train.sample_count' must be >= 1");
  o.checkpoint_seconds = c.get_double("train.checkpoint_seconds", o.checkpoint_seconds);
  if (!(o.checkpoint_seconds > 0)) throw Error("config key 'train.checkpoint_seconds' must be > 0");
  o.eval_batch_size = c.get_int("train.eval_batch_size", o.eval_batch_size);
  if (o.eval_batch_size < 1) throw Error("config key 'train.eval_batch_size' must be >= 1");
  o.patience = c.get_int("train.patience", o.patience);
  if (o.patience < 0) throw Error("config key 'train.patience' must be >= 0 (epochs; 0 = no early stopping)");
  o.select_by = c.get_string("train.select_by", o.select_by);
  return o;
}

Trainer::Trainer(TrainerOptions options, std::string run_dir, ModulePtr model,
                 Objective& objective, TrainData data, std::string config_toml)
    : options_(options),
      run_dir_(std::move(run_dir)),
      model_(std::move(model)),
      objective_(objective),
      data_(std::move(data)),
      config_toml_(std::move(config_toml)) {
  if (!data_.train.defined() || data_.train.size(0) == 0)
    throw Error("the training split is empty");
  if (options_.patience > 0 && !has_validation())
    throw Error("train.patience needs a validation split: set train.validation to the number of training "
                "images to hold out");
  // An unknown train.select_by fails here, before anything is trained or written.
  if (has_validation()) {
    RngStateGuard guard;
    selected(objective_.evaluate(data_.validation.slice(0, 0, 1), 1));
  }
}

TrainingDiverged Trainer::diverged(const std::string& what) const {
  return TrainingDiverged(what + "; training stopped, the last good checkpoint in '" + run_dir_ +
                          "' is kept (lower optim.lr or set train.clip_grad_norm)");
}

bool Trainer::has_validation() const { return data_.validation.defined() && data_.validation.size(0) > 0; }

Metrics::const_iterator Trainer::selected(const Metrics& m) const {
  auto it = std::find_if(m.begin(), m.end(), [&](const auto& kv) { return kv.first == options_.select_by; });
  if (it == m.end()) {
    std::string names;
    for (const auto& kv : m) names += (names.empty() ? "" : ", ") + kv.first;
    throw Error("train.select_by = '" + options_.select_by + "' is not a held-out metric of this model (it reports: " +
                (names.empty() ? "none" : names) + ")");
  }
  return it;
}

Metrics Trainer::validate(bool& improved) {
  improved = false;
  if (!has_validation()) return {};
  Metrics m;
  {
    RngStateGuard guard;  // scoring must not change training
    m = objective_.evaluate(data_.validation, options_.eval_batch_size);
  }
  auto it = selected(m);
  if (!std::isfinite(it->second))
    throw diverged("the validation " + it->first + " became non-finite at step " + std::to_string(state_.global_step));
  if (it->second < state_.best_score) {
    state_.best_score = it->second;
    // Epochs completed, counting a partial one (a mid-epoch stop) as done,
    // so that patience counts whole epochs after it.
    state_.best_epoch = state_.epoch + (state_.batch_in_epoch > 0 ? 1 : 0);
    state_.best_step = state_.global_step;
    improved = true;
  }
  return m;
}

void Trainer::log_json(const std::string& line) {
  std::ofstream out(run_dir_ + "/metrics.jsonl", std::ios::app);
  out << line << "\n";
  if (!out) throw Error("cannot append to '" + run_dir_ + "/metrics.jsonl'");
}

void Trainer::checkpoint(bool best) {
  // Never save a model that has left the numbers: that would replace the
  // last good checkpoint with a broken one.
  for (const auto& p : model_->named_parameters())
    if (!torch::isfinite(p.value()).all().item<bool>())
      throw diverged("parameter '" + p.key() + "' became non-finite by step " + std::to_string(state_.global_step) +
                     " (epoch " + std::to_string(state_.epoch + 1) + ")");
  // best.pt first: a crash between the two writes leaves checkpoint.pt at
  // the previous epoch, which a resume then trains and validates again.
  if (best) save_best_checkpoint(run_dir_, *model_, state_, config_toml_);
  save_checkpoint(run_dir_, *model_, &objective_, state_, config_toml_);
}

void Trainer::write_samples(const std::string& name) {
  auto sampler = as<Sampler>(model_);
  if (!sampler || !data_.to_display) return;
  // Samples draw from a stream of their own: logging must not change training.
  RngStateGuard guard;
  torch::manual_seed(mix_seed(options_.seed, 0x5A3D1E, static_cast<uint64_t>(state_.global_step)));
  torch::NoGradGuard no_grad;
  model_->eval();
  auto images = data_.to_display(sampler->sample(options_.sample_count));  // [n, C, H, W]
  ensure_dir(run_dir_ + "/samples");
  save_grid(run_dir_ + "/samples/" + name + ".png", images);
}

TrainSummary Trainer::run(bool resume) {
  TrainSummary summary;
  const auto started = Clock::now();
  if (resume) {
    state_ = load_checkpoint(checkpoint_path(run_dir_), *model_, &objective_);
  } else {
    state_ = TrainerState{};
    seed_everything(options_.seed);
    checkpoint();  // step 0: a run that diverges at once still has a good checkpoint
  }
  const double elapsed_before = state_.elapsed_seconds;
  BatchSampler sampler(data_.train.size(0), options_.batch_size, options_.seed);
  const int64_t per_epoch = sampler.batches_per_epoch();

  auto elapsed = [&] { return elapsed_before + seconds_since(started); };
  auto patience_ran_out = [&] {
    return options_.patience > 0 && state_.best_epoch > 0 && state_.batch_in_epoch == 0 &&
           state_.epoch - state_.best_epoch >= options_.patience;
  };
  auto budget_spent = [&] {
    if (options_.epochs == 0 && options_.steps == 0 && options_.time_limit == 0) return true;
    if (options_.epochs > 0 && state_.epoch >= options_.epochs) return true;
    if (options_.steps > 0 && state_.global_step >= options_.steps) return true;
    if (options_.time_limit > 0 && elapsed() >= options_.time_limit) return true;
    return patience_ran_out();
  };
  // Fraction of the tightest budget, and the time it implies is left.
  auto progress_fraction = [&] {
    double f = -1;
    if (options_.epochs > 0)
      f = std::max(f, (state_.epoch + static_cast<double>(state_.batch_in_epoch) / per_epoch) /
                          options_.epochs);
    if (options_.steps > 0) f = std::max(f, static_cast<double>(state_.global_step) / options_.steps);
    if (options_.time_limit > 0) f = std::max(f, elapsed() / options_.time_limit);
    return std::min(f, 1.0);
  };

  Progress progress(isatty(STDERR_FILENO) != 0);
  if (options_.epochs == 0 && options_.steps == 0 && options_.time_limit == 0) {
    progress.line("the budget is zero: no training step, the model is saved as it is");
  } else if (budget_spent()) {
    progress.line("budget already spent at epoch " + std::to_string(state_.epoch) + ", step " +
                  std::to_string(state_.global_step) + ": nothing to train");
  }
  const int64_t start_step = state_.global_step;
  const double start_fraction = std::max(0.0, progress_fraction());
  auto last_checkpoint = Clock::now();
  auto window_start = Clock::now();
  int64_t window_examples = 0;
  double epoch_loss_sum = 0;
  int64_t epoch_loss_count = 0;
  double rate = 0;
  bool epoch_begun = false;

  while (!budget_spent()) {
    if (!epoch_begun || state_.batch_in_epoch == 0) {
      objective_.begin_epoch(state_.epoch);
      epoch_begun = true;
    }
    auto rows = sampler.indices(state_.epoch, state_.batch_in_epoch);  // [B]
    auto x = data_.train.index_select(0, rows);
    if (data_.batch) x = data_.batch(x, state_.epoch, state_.batch_in_epoch);
    Metrics m = objective_.step(x);
    if (!finite_metrics(m)) {
      std::string what = m.front().first + " became " + std::to_string(m.front().second);
      for (const auto& kv : m)
        if (!std::isfinite(kv.second)) what = kv.first + " became " + std::to_string(kv.second);
      throw diverged(what + " at step " + std::to_string(state_.global_step + 1) + " (epoch " +
                     std::to_string(state_.epoch + 1) + ")");
    }
    state_.batch_in_epoch++;
    state_.global_step++;
    window_examples += x.size(0);
    epoch_loss_sum += m.front().second;
    epoch_loss_count++;

    // Examples per second over windows of 0.5-2 s; a fresh window keeps the
    // previous rate until it is long enough to measure.
    double window = seconds_since(window_start);
    if (window >= 0.5 || rate == 0) rate = window_examples / std::max(window, 1e-9);
    if (window >= 2.0) {
      window_start = Clock::now();
      window_examples = 0;
    }
    double frac = progress_fraction();
    double done_here = frac - start_fraction;  // share of the budget done by this invocation
    double eta = done_here > 0 ? seconds_since(started) * (1 - frac) / done_here : -1;
    progress.update("epoch " + std::to_string(state_.epoch + 1) + " step " +
                        std::to_string(state_.global_step),
                    frac, m.front().second, rate, eta);

    if (state_.global_step % options_.log_every == 0) {
      nlohmann::json j{{"event", "step"},       {"step", state_.global_step},
                       {"epoch", state_.epoch + static_cast<double>(state_.batch_in_epoch) / per_epoch},
                       {"elapsed_s", elapsed()}, {"examples_per_s", rate}};
      for (const auto& kv : m) j[kv.first] = kv.second;
      log_json(j.dump());
    }

    if (state_.batch_in_epoch == per_epoch) {
      // End of an epoch: held-out score, samples, checkpoint.
      Metrics eval;
      if (data_.test.defined() && data_.test.size(0) > 0)
        eval = objective_.evaluate(data_.test, options_.eval_batch_size);
      state_.epoch++;
      state_.batch_in_epoch = 0;
      state_.elapsed_seconds = elapsed();
      summary.last_eval = eval;
      if (!finite_metrics(eval))
        throw diverged("the test score became non-finite after epoch " + std::to_string(state_.epoch));
      bool improved = false;
      Metrics val = validate(improved);
      checkpoint(improved);
      last_checkpoint = Clock::now();
      nlohmann::json j{{"event", "epoch"},
                       {"epoch", state_.epoch},
                       {"step", state_.global_step},
                       {"elapsed_s", state_.elapsed_seconds},
                       {"train_loss", epoch_loss_sum / std::max<int64_t>(1, epoch_loss_count)}};
      std::string text = "epoch " + std::to_string(state_.epoch) + ": train loss " +
                         std::to_string(epoch_loss_sum / std::max<int64_t>(1, epoch_loss_count));
      for (const auto& kv : val) {
        j["val_" + kv.first] = kv.second;
        text += ", val " + kv.first + " " + std::to_string(kv.second);
      }
      for (const auto& kv : eval) {
        j["test_" + kv.first] = kv.second;
        text += ", test " + kv.first + " " + std::to_string(kv.second);
      }
      if (improved) text += " (best)";
      log_json(j.dump());
      progress.line(text + "  (" + format_duration(state_.elapsed_seconds) + ")");
      epoch_loss_sum = 0;
      epoch_loss_count = 0;
      // The checkpoint came first: a failing picture must not cost the epoch.
      if (options_.sample_every > 0 && state_.epoch % options_.sample_every == 0) {
        char name[32];
        std::snprintf(name, sizeof name, "epoch_%04lld", static_cast<long long>(state_.epoch));
        write_samples(name);
      }
    } else if (seconds_since(last_checkpoint) >= options_.checkpoint_seconds) {
      state_.elapsed_seconds = elapsed();
      checkpoint();
      last_checkpoint = Clock::now();
    }
  }

  state_.elapsed_seconds = elapsed();
  if (state_.global_step != start_step) {
    if (state_.batch_in_epoch != 0) {
      // A mid-epoch stop (time or step budget): the partial epoch's model
      // competes for best.pt too. So a run stopped mid-epoch and resumed has
      // scored one model more than a run that went through; its weights and
      // optimizer state are the same.
      bool improved = false;
      Metrics val = validate(improved);
      checkpoint(improved);
      if (!val.empty()) {
        nlohmann::json j{{"event", "final"}, {"epoch", state_.epoch + static_cast<double>(state_.batch_in_epoch) / per_epoch},
                         {"step", state_.global_step}, {"elapsed_s", state_.elapsed_seconds}};
        for (const auto& kv : val) j["val_" + kv.first] = kv.second;
        log_json(j.dump());
      }
    }
    write_samples("final");
  }
  summary.stopped_early = patience_ran_out();
  if (summary.stopped_early)
    progress.line("stopped early: no better validation " + options_.select_by + " in " +
                  std::to_string(options_.patience) + " epochs (best " + std::to_string(state_.best_score) +
                  " after epoch " + std::to_string(state_.best_epoch) + ", step " + std::to_string(state_.best_step) + ")");
  summary.state = state_;
  summary.wall_seconds = seconds_since(started);
  return summary;
}

}  // namespace genzoo
