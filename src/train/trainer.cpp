#include "genzoo/train/trainer.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

#include "genzoo/core/error.h"
#include "genzoo/core/files.h"
#include "genzoo/core/rng.h"
#include "genzoo/data/image.h"
#include "genzoo/report/png_grid.h"

namespace genzoo {

namespace {

bool finite_metrics(const Metrics& m) {
  for (const auto& kv : m)
    if (!std::isfinite(kv.second)) return false;
  return true;
}

// Adds `m` to running sums that keep the order in which names first appear.
void accumulate(Metrics& sums, const Metrics& m) {
  for (const auto& entry : m) {
    const std::string& name = entry.first;  // (a structured binding cannot be captured in C++17)
    auto it = std::find_if(sums.begin(), sums.end(), [&](const auto& kv) { return kv.first == name; });
    if (it == sums.end())
      sums.emplace_back(name, entry.second);
    else
      it->second += entry.second;
  }
}

std::string names_or_none(const std::vector<std::string>& names) { return names.empty() ? "none" : join(names); }

std::string names_of(const Metrics& m) {
  std::vector<std::string> names;
  for (const auto& kv : m) names.push_back(kv.first);
  return names.empty() ? "none" : join(names);
}

}  // namespace

TrainerOptions TrainerOptions::from_config(Config& c) {
  TrainerOptions o;
  // With no budget anywhere, train 10 epochs; an explicit zero budget (e.g.
  // --steps 0) means no training at all, only a checkpoint of the initial model.
  if (!c.has("train.epochs") && !c.has("train.steps") && !c.has("train.time_limit"))
    c.set("train.epochs", int64_t{10});
  o.budget.epochs = c.get_int("train.epochs", 0);
  o.budget.steps = c.get_int("train.steps", 0);
  o.budget.seconds = c.get_double("train.time_limit", 0.0);
  if (o.budget.epochs < 0) throw Error("--epochs must be >= 0");
  if (o.budget.steps < 0) throw Error("--steps must be >= 0");
  if (!(o.budget.seconds >= 0) || !std::isfinite(o.budget.seconds))
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
  o.rollbacks = c.get_int("train.rollbacks", o.rollbacks);
  if (o.rollbacks < 0) throw Error("config key 'train.rollbacks' must be >= 0 (0: stop at the first divergence)");
  o.rollback_lr_factor = c.get_double("train.rollback_lr_factor", o.rollback_lr_factor);
  if (!(o.rollback_lr_factor > 0 && o.rollback_lr_factor < 1))
    throw Error("config key 'train.rollback_lr_factor' must be in (0, 1): the learning rates after a rollback, as a "
                "share of those before");
  o.diverge_above = c.get_double("train.diverge_above", o.diverge_above);
  if (!(o.diverge_above >= 0) || !std::isfinite(o.diverge_above))
    throw Error("config key 'train.diverge_above' must be >= 0 (0: no bound on the step metrics)");
  return o;
}

EpochBatches::EpochBatches(const TrainData& data, int64_t batch_size, uint64_t seed, TrainerState& state,
                           int64_t rank, int64_t world)
    : data_(data), sampler_(data.train.size(0), batch_size, seed), state_(state), rank_(rank), world_(world) {
  const int64_t n = data.train.size(0), tail = n % batch_size;
  if (world > 1 && std::min(n, batch_size) < world * kMinShardRows)
    throw Error("train.batch_size = " + std::to_string(batch_size) + " is the global batch, shared by " +
                std::to_string(world) + " workers: it and the training split (" + std::to_string(n) +
                " rows) need at least " + std::to_string(kMinShardRows) + " rows per worker");
  merge_tail_ = world > 1 && n > batch_size && tail > 0 && tail < world * kMinShardRows;
}

torch::Tensor EpochBatches::next() {
  if (state_.batch_in_epoch == per_epoch()) {  // the step needs more than its epoch had left
    state_.epoch++;
    state_.batch_in_epoch = 0;
    rollovers_++;
  }
  auto rows = sampler_.indices(state_.epoch, state_.batch_in_epoch);  // [B]
  if (merge_tail_ && state_.batch_in_epoch == per_epoch() - 1)
    rows = torch::cat({rows, sampler_.indices(state_.epoch, state_.batch_in_epoch + 1)});
  auto x = data_.train.index_select(0, rows);
  labels_ = data_.train_labels.defined() ? data_.train_labels.index_select(0, rows) : torch::Tensor();
  if (data_.batch) x = data_.batch(x, state_.epoch, state_.batch_in_epoch);
  state_.batch_in_epoch++;
  const int64_t n = x.size(0);
  examples_ += n;
  if (world_ > 1) {  // this worker's rows of the global batch
    const int64_t lo = n * rank_ / world_, hi = n * (rank_ + 1) / world_;
    x = x.narrow(0, lo, hi - lo);
    if (labels_.defined()) labels_ = labels_.narrow(0, lo, hi - lo);
    if (ProcessGroup* group = process_group()) group->set_share(static_cast<double>(hi - lo) / static_cast<double>(n));
  }
  return x;
}

std::string worker_dir(const std::string& run_dir, int64_t rank) {
  return rank == 0 ? run_dir : run_dir + "/workers/rank-" + std::to_string(rank);
}

Trainer::Trainer(TrainerOptions options, std::string run_dir, ModulePtr model, Objective& objective,
                 TrainData data, std::string config_toml)
    : options_(options),
      run_dir_(std::move(run_dir)),
      model_(std::move(model)),
      objective_(objective),
      data_(std::move(data)),
      config_toml_(std::move(config_toml)) {
  group_ = process_group();
  primary_ = !group_ || group_->primary();
  state_dir_ = worker_dir(run_dir_, group_ ? group_->rank() : 0);
  if (!data_.train.defined() || data_.train.size(0) == 0) throw Error("the training split is empty");
  const auto held_out = objective_.held_out_metrics();
  if (std::find(held_out.begin(), held_out.end(), options_.select_by) == held_out.end())
    throw Error("train.select_by = '" + options_.select_by + "' is not a held-out metric of this model (it reports: " +
                names_or_none(held_out) + ")");
  if (options_.patience > 0 && !has_validation())
    throw Error("train.patience needs a validation split: set train.validation to the number of training "
                "images to hold out");
}

TrainSummary Trainer::run(bool resume) {
  try {
    start(resume);
    bool mid_epoch = false;  // the last step did not end its epoch
    while (true) {
      // Data-parallel, rank 0's clock decides for every worker.
      bool save = mid_epoch && checkpoint_due(), stop = budget_spent();
      if (group_) {
        const auto decided = group_->agree({save, stop});
        save = decided[0];
        stop = decided[1];
      }
      mid_epoch = false;
      try {
        if (save) {
          save_mid_epoch();
          // The save's own time counts against a time budget.
          stop = budget_spent();
          if (group_) stop = group_->agree({stop})[0];
        }
        if (stop) break;
        Metrics m = train_step();
        report_step(m);
        if (epoch_finished())
          end_epoch();
        else
          mid_epoch = true;
      } catch (const TrainingDiverged& e) {
        if (state_.rollbacks >= options_.rollbacks) throw;
        roll_back(e.what());
      }
    }
    return finish();
  } catch (const TrainingDiverged& e) {
    progress_.reset();
    // The run's last line, as at a normal end, saying why it stopped.
    try {
      log_json(nlohmann::json{{"event", "end"},
                              {"step", state_.global_step},
                              {"diverged", true},
                              {"message", std::string(e.what()).substr(0, std::string(e.what()).find(';'))}}
                   .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    } catch (const Error&) {
      // a full disk: the divergence is still what is reported
    }
    throw;
  } catch (...) {
    progress_.reset();  // end a redrawn progress line before the error is printed
    throw;
  }
}

void Trainer::start(bool resume) {
  summary_ = TrainSummary{};
  started_ = Clock::now();
  if (resume) {
    state_ = load_checkpoint(checkpoint_path(state_dir_), *model_, &objective_);
    if (group_) align_resumed_workers();
    // The rates the run had lowered to before it stopped.
    if (state_.rollbacks > 0)
      objective_.scale_learning_rates(std::pow(options_.rollback_lr_factor, static_cast<double>(state_.rollbacks)));
    if (primary_) cut_metrics_to_checkpoint();  // rank 0 alone keeps the log
    write_missing_epoch_samples();
  } else {
    state_ = TrainerState{};
    // Workers draw their own noise (Langevin, a generator's z); rank 0 the
    // stream of a run of one process.
    const int64_t rank = group_ ? group_->rank() : 0;
    seed_everything(rank == 0 ? options_.seed : mix_seed(options_.seed, 0xD157D1, static_cast<uint64_t>(rank)));
    broadcast_module(*model_);  // every worker starts from rank 0's weights
    if (!primary_) ensure_dir(state_dir_);
    checkpoint();  // step 0: a run that diverges at once still has a good checkpoint
  }
  elapsed_before_ = state_.elapsed_seconds;
  batches_ = std::make_unique<EpochBatches>(data_, options_.batch_size, options_.seed, state_,
                                            group_ ? group_->rank() : 0, group_ ? group_->world() : 1);
  progress_ = std::make_unique<Progress>(primary_ && isatty(STDERR_FILENO) != 0);
  if (options_.budget.zero()) {
    say("the budget is zero: no training step, the model is saved as it is");
  } else if (budget_spent()) {
    say("budget already spent at epoch " + std::to_string(state_.epoch) + ", step " +
        std::to_string(state_.global_step) + ": nothing to train");
  }
  start_step_ = state_.global_step;
  start_fraction_ = std::max(0.0, options_.budget.fraction(state_, batches_->per_epoch(), elapsed()));
  last_checkpoint_ = window_start_ = Clock::now();
  window_examples_start_ = 0;
  rate_ = 0;
  begun_epoch_ = -1;
  epoch_sums_ = state_.epoch_sums;  // a resume continues the epoch's means
  epoch_counts_ = state_.epoch_counts;
}

// A kill can land between two workers' checkpoints of the same moment,
// leaving one a checkpoint ahead. Every worker must continue from the same
// step: those ahead go back to their previous checkpoint when it is at the
// common step; otherwise the run cannot continue. Then rank 0's parameters
// for all (they are equal already; this only guards).
void Trainer::align_resumed_workers() {
  const int64_t world = group_->world(), rank = group_->rank();
  auto steps = torch::zeros({world}, torch::kFloat64);
  steps[rank] = static_cast<double>(state_.global_step);
  group_->all_reduce_sum({steps});
  const int64_t earliest = steps.min().item<int64_t>(), latest = steps.max().item<int64_t>();
  if (earliest != latest) {
    bool ok = true;
    if (state_.global_step != earliest) {
      // Read once: when its step is not the common one, the run stops below.
      const std::string prev = previous_checkpoint_path(state_dir_);
      if (file_exists(prev)) {
        TrainerState before = load_checkpoint(prev, *model_, &objective_);
        ok = before.global_step == earliest;
        if (ok) state_ = before;
      } else {
        ok = false;
      }
    }
    auto failed = torch::tensor({ok ? 0.0 : 1.0}, torch::kFloat64);
    group_->all_reduce_sum({failed});
    if (failed.item<double>() > 0)
      throw Error("cannot resume '" + run_dir_ + "': its workers' checkpoints are at steps " +
                  std::to_string(earliest) + " to " + std::to_string(latest) +
                  " and no earlier checkpoint brings them to one step");
    say("the workers' checkpoints were at steps " + std::to_string(earliest) + " to " + std::to_string(latest) +
        ": all continue from step " + std::to_string(earliest));
  }
  broadcast_module(*model_, /*buffers=*/false);  // buffers (replay buffers, chains) are each worker's own
}

double Trainer::elapsed() const { return elapsed_before_ + seconds_since(started_); }

// Whole epochs since the best one; this only grows when an epoch ends, so
// checking it before every step stops the run right after that epoch.
bool Trainer::patience_ran_out() const {
  return options_.patience > 0 && state_.best_epoch > 0 && state_.epoch - state_.best_epoch >= options_.patience;
}

bool Trainer::budget_spent() const { return options_.budget.spent(state_, elapsed()) || patience_ran_out(); }

Metrics Trainer::train_step() {
  if (state_.epoch != begun_epoch_) {
    objective_.begin_epoch(state_.epoch);
    begun_epoch_ = state_.epoch;
  }
  objective_.begin_step(state_.global_step);
  const int64_t epoch = state_.epoch;
  rollovers_before_step_ = batches_->rollovers();
  const int64_t examples_before = batches_->examples();
  Metrics m = objective_.step(*batches_);
  average_metrics(m);  // data-parallel: every worker sees (and checks) the global batch's figures
  TORCH_CHECK(batches_->examples() > examples_before, "the objective's step took no batch: the run would never end");
  if (batches_->rollovers() > rollovers_before_step_ + 1)
    throw Error("one step took " + std::to_string(batches_->examples() - examples_before) +
                " examples, more than a whole epoch of " + std::to_string(data_.train.size(0)) +
                ": the epochs it spanned could not be evaluated; lower train.batch_size or the batches per step");
  if (!finite_metrics(m)) {
    std::string what = m.front().first + " became " + std::to_string(m.front().second);
    for (const auto& kv : m)
      if (!std::isfinite(kv.second)) what = kv.first + " became " + std::to_string(kv.second);
    throw diverged(what + " at step " + std::to_string(state_.global_step + 1) + " (epoch " +
                   std::to_string(epoch + 1) + ")");
  }
  if (options_.diverge_above > 0)
    for (const auto& kv : m)
      if (std::abs(kv.second) > options_.diverge_above)
        throw diverged(kv.first + " reached " + std::to_string(kv.second) + ", beyond train.diverge_above = " +
                       std::to_string(options_.diverge_above) + ", at step " + std::to_string(state_.global_step + 1) +
                       " (epoch " + std::to_string(epoch + 1) + ")");
  state_.global_step++;
  for (const auto& w : objective_.take_warnings()) {
    say("warning: " + w);
    log_json(nlohmann::json{{"event", "warning"}, {"step", state_.global_step}, {"message", w}}.dump());
  }
  return m;
}

void Trainer::report_step(const Metrics& m) {
  accumulate(epoch_sums_, m);
  for (const auto& kv : m) accumulate(epoch_counts_, {{kv.first, 1.0}});
  // Examples per second over windows of 0.5-2 s; a fresh window keeps the
  // previous rate until it is long enough to measure.
  const double window = seconds_since(window_start_);
  const double examples = static_cast<double>(batches_->examples() - window_examples_start_);
  if (window >= 0.5 || rate_ == 0) rate_ = examples / std::max(window, 1e-9);
  if (window >= 2.0) {
    window_start_ = Clock::now();
    window_examples_start_ = batches_->examples();
  }
  const int64_t per_epoch = batches_->per_epoch();
  const double frac = options_.budget.fraction(state_, per_epoch, elapsed());
  const double done_here = frac - start_fraction_;  // share of the budget done by this invocation
  const double eta = done_here > 0 ? seconds_since(started_) * (1 - frac) / done_here : -1;
  Metrics figures;
  for (const auto& name : objective_.progress_metrics())
    for (const auto& kv : m)
      if (kv.first == name) figures.push_back(kv);
  if (primary_)
    progress_->update("epoch " + std::to_string(state_.epoch + 1) + " step " + std::to_string(state_.global_step), frac,
                      figures, rate_, eta);

  if (state_.global_step % options_.log_every == 0) {
    nlohmann::json j{{"event", "step"},
                     {"step", state_.global_step},
                     {"epoch", state_.epoch + static_cast<double>(state_.batch_in_epoch) / per_epoch},
                     {"elapsed_s", elapsed()},
                     {"examples_per_s", rate_}};
    for (const auto& kv : m) j[kv.first] = kv.second;
    log_json(j.dump());
  }
}

bool Trainer::epoch_finished() const {
  return state_.batch_in_epoch == batches_->per_epoch() || batches_->rollovers() > rollovers_before_step_;
}

void Trainer::end_epoch() {
  if (state_.batch_in_epoch == batches_->per_epoch()) {
    state_.epoch++;
    state_.batch_in_epoch = 0;
  }
  Metrics eval, val;
  bool improved = false;
  held_out(state_.epoch, /*test=*/true, eval, val, improved);
  state_.elapsed_seconds = elapsed();
  summary_.last_eval = eval;

  nlohmann::json j{{"event", "epoch"},
                   {"epoch", state_.epoch},
                   {"step", state_.global_step},
                   {"elapsed_s", state_.elapsed_seconds}};
  std::string text = "epoch " + std::to_string(state_.epoch) + ":";
  const auto shown = objective_.progress_metrics();
  for (size_t k = 0; k < epoch_sums_.size(); ++k) {
    // The mean over the steps that reported it (a step may leave a metric out).
    const auto& [name, sum] = epoch_sums_[k];
    const double mean = sum / epoch_counts_[k].second;
    j["train_" + name] = mean;
    if (std::find(shown.begin(), shown.end(), name) != shown.end())
      text += " train " + name + " " + std::to_string(mean) + ",";
  }
  for (const auto& kv : val) {
    j["val_" + kv.first] = kv.second;
    text += " val " + kv.first + " " + std::to_string(kv.second) + ",";
  }
  for (const auto& kv : eval) {
    j["test_" + kv.first] = kv.second;
    text += " test " + kv.first + " " + std::to_string(kv.second) + ",";
  }
  if (text.back() == ',') text.pop_back();
  if (improved) text += " (best)";
  epoch_sums_.clear();  // the next epoch's, as the checkpoint will keep them
  epoch_counts_.clear();
  state_.epoch_end_step = state_.scored_step = state_.global_step;
  // The line before the checkpoint, which records the log's length: killed
  // between the two, a resume does the epoch again and cuts the line. (A
  // model that has left the numbers is caught before either.)
  ensure_finite();
  log_json(j.dump());
  checkpoint(improved);
  last_checkpoint_ = Clock::now();
  say(text + "  (" + format_duration(state_.elapsed_seconds) + ")");
  // The checkpoint came first: a failing picture must not cost the epoch
  // (and a run killed before it is drawn draws it when resumed).
  if (epoch_samples_due()) write_samples(epoch_samples_name());
}

bool Trainer::epoch_samples_due() const {
  return options_.sample_every > 0 && state_.epoch > 0 && state_.epoch % options_.sample_every == 0;
}

std::string Trainer::epoch_samples_name() const {
  char name[32];
  std::snprintf(name, sizeof name, "epoch_%04lld", static_cast<long long>(state_.epoch));
  return name;
}

// Samples come from a stream seeded by the step, so the grid a kill
// prevented is the very one the run would have drawn.
void Trainer::write_missing_epoch_samples() {
  // Only at the checkpoint that ended the epoch: later, the step has moved on.
  if (state_.epoch_end_step == state_.global_step && epoch_samples_due() &&
      !file_exists(run_dir_ + "/samples/" + epoch_samples_name() + ".png"))
    write_samples(epoch_samples_name());
}

bool Trainer::checkpoint_due() const { return seconds_since(last_checkpoint_) >= options_.checkpoint_seconds; }

void Trainer::save_mid_epoch() {
  state_.elapsed_seconds = elapsed();
  checkpoint();
  last_checkpoint_ = Clock::now();
}

TrainSummary Trainer::finish() {
  state_.elapsed_seconds = elapsed();
  if (state_.global_step > 0 && state_.scored_step != state_.global_step) {
    // A mid-epoch stop (time or step budget), or a resume of one killed
    // before its score was saved: the partial epoch's model competes for
    // best.pt too. So a run stopped mid-epoch and resumed has scored one
    // model more than a run that went through; its weights and optimizer
    // state are the same.
    bool improved = false;
    Metrics eval, val;
    held_out(state_.epoch + 1, /*test=*/false, eval, val, improved);
    ensure_finite();
    state_.scored_step = state_.global_step;
    if (!val.empty()) {  // logged first, as at an epoch's end
      nlohmann::json j{{"event", "final"},
                       {"epoch", state_.epoch + static_cast<double>(state_.batch_in_epoch) / batches_->per_epoch()},
                       {"step", state_.global_step},
                       {"elapsed_s", state_.elapsed_seconds}};
      for (const auto& kv : val) j["val_" + kv.first] = kv.second;
      log_json(j.dump());
    }
    checkpoint(improved);
  }
  // The last grid, also when a kill came as it was drawn.
  if (state_.global_step > 0 && (state_.global_step != start_step_ || !file_exists(run_dir_ + "/samples/final.png")))
    write_samples("final");
  summary_.stopped_early = patience_ran_out();
  if (summary_.stopped_early)
    say("stopped early: no better validation " + options_.select_by + " in " +
                    std::to_string(options_.patience) + " epochs (best " + std::to_string(state_.best_score) +
                    " after epoch " + std::to_string(state_.best_epoch) + ", step " + std::to_string(state_.best_step) +
                    ")");
  // The run's last line: what watches a run (genzoo report --watch, genzoo
  // compare) knows from it that training has ended. After the last
  // checkpoint, so a resume that trains on cuts it with the lines after.
  log_json(nlohmann::json{{"event", "end"},
                          {"step", state_.global_step},
                          {"elapsed_s", state_.elapsed_seconds},
                          {"stopped_early", summary_.stopped_early},
                          {"diverged", false}}
               .dump());
  summary_.state = state_;
  summary_.wall_seconds = seconds_since(started_);
  progress_.reset();  // ends a redrawn progress line
  return summary_;
}

void Trainer::roll_back(const std::string& why) {
  const int64_t done = state_.rollbacks + 1;
  // The last good checkpoint: its weights, optimizer state, position and
  // random state. Wall time keeps counting from now (elapsed() runs on).
  state_ = load_checkpoint(checkpoint_path(state_dir_), *model_, &objective_);
  state_.rollbacks = done;
  const double factor = std::pow(options_.rollback_lr_factor, static_cast<double>(done));
  // The loaded optimizer carries the rates of before; the schedules set
  // them again from the lowered base rates at the next step.
  objective_.scale_learning_rates(options_.rollback_lr_factor);
  begun_epoch_ = -1;
  epoch_sums_ = state_.epoch_sums;
  epoch_counts_ = state_.epoch_counts;
  const std::string reason = why.substr(0, why.find(';'));  // without the "training stopped" advice
  const std::string message = "rollback " + std::to_string(done) + " of " + std::to_string(options_.rollbacks) +
                              ": " + reason + "; back to step " +
                              std::to_string(state_.global_step) + ", learning rates now " +
                              std::to_string(factor) + " of the configured ones";
  say(message);
  log_json(nlohmann::json{{"event", "rollback"},
                          {"step", state_.global_step},
                          {"rollbacks", done},
                          {"lr_factor", factor},
                          {"message", reason}}
               .dump());
  state_.elapsed_seconds = elapsed();
  checkpoint();  // the count, so that a resume continues at the lowered rates
  last_checkpoint_ = Clock::now();
}

TrainingDiverged Trainer::diverged(const std::string& what) const {
  return TrainingDiverged(what + "; training stopped, the last good checkpoint in '" + run_dir_ +
                          "' is kept (lower the learning rate, optim.lr or a GAN's optim_g.lr and optim_d.lr, or set "
                          "train.clip_grad_norm)");
}

bool Trainer::has_validation() const { return data_.validation.defined() && data_.validation.size(0) > 0; }

Metrics::const_iterator Trainer::selected(const Metrics& m) const {
  auto it = std::find_if(m.begin(), m.end(), [&](const auto& kv) { return kv.first == options_.select_by; });
  if (it == m.end())
    throw Error("train.select_by = '" + options_.select_by + "': the objective's evaluation returned only " +
                names_of(m));
  return it;
}

Metrics Trainer::validate(int64_t epochs_done, bool& improved) {
  improved = false;
  if (!has_validation()) return {};
  Metrics m;
  {
    RngStateGuard guard;  // scoring must not change training
    m = objective_.evaluate({data_.validation, data_.validation_labels}, options_.eval_batch_size);
  }
  auto it = selected(m);
  if (!std::isfinite(it->second))
    throw diverged("the validation " + it->first + " became non-finite at step " + std::to_string(state_.global_step));
  if (it->second < state_.best_score) {
    state_.best_score = it->second;
    state_.best_epoch = epochs_done;
    state_.best_step = state_.global_step;
    improved = true;
  }
  return m;
}

void Trainer::log_json(const std::string& line) {
  if (primary_) append_line(metrics_path(), line);
}

void Trainer::say(const std::string& text) {
  if (!primary_) return;
  if (progress_)
    progress_->line(text);
  else  // before start() has made the progress line
    std::fprintf(stderr, "%s\n", text.c_str());
}

void Trainer::held_out(int64_t epochs_done, bool test, Metrics& eval, Metrics& val, bool& improved) {
  improved = false;
  std::string failure;
  if (primary_) {
    try {
      if (test && data_.test.defined() && data_.test.size(0) > 0) {
        RngStateGuard guard;  // scoring must not change training
        eval = objective_.evaluate({data_.test, data_.test_labels}, options_.eval_batch_size);
      }
      if (!finite_metrics(eval))
        throw diverged("the test score became non-finite after epoch " + std::to_string(state_.epoch));
      val = validate(epochs_done, improved);
    } catch (const TrainingDiverged& e) {
      if (!group_) throw;
      failure = e.what();
    }
  }
  if (!group_) return;
  // Rank 0's figures for everyone: names and the verdict as JSON, the
  // numbers bit for bit as a tensor.
  nlohmann::json head{{"eval", nlohmann::json::array()}, {"val", nlohmann::json::array()},
                      {"improved", improved}, {"failure", failure}};
  for (const auto& kv : eval) head["eval"].push_back(kv.first);
  for (const auto& kv : val) head["val"].push_back(kv.first);
  head = nlohmann::json::parse(group_->broadcast_string(head.dump()));
  auto numbers = torch::zeros({static_cast<int64_t>(head["eval"].size() + head["val"].size())}, torch::kFloat64);
  int64_t k = 0;
  for (const auto& m : {&eval, &val})
    for (const auto& kv : *m) numbers[k++] = kv.second;
  if (numbers.numel() > 0) group_->broadcast({numbers});
  if (!primary_) {
    k = 0;
    eval.clear();
    val.clear();
    for (const auto& name : head["eval"]) eval.emplace_back(name.get<std::string>(), numbers[k++].item<double>());
    for (const auto& name : head["val"]) val.emplace_back(name.get<std::string>(), numbers[k++].item<double>());
    improved = head["improved"].get<bool>();
    failure = head["failure"].get<std::string>();
    if (improved && failure.empty()) {  // rank 0's record of the best model, kept alike
      state_.best_score = selected(val)->second;
      state_.best_epoch = epochs_done;
      state_.best_step = state_.global_step;
    }
  }
  if (!failure.empty()) throw TrainingDiverged(failure);
}

std::string Trainer::metrics_path() const { return run_dir_ + "/metrics.jsonl"; }

// metrics.jsonl as the checkpoint being resumed left it: the lines written
// after that checkpoint belong to steps this run does again, so they go
// (and with them a line a power cut may have torn), and one line says so.
void Trainer::cut_metrics_to_checkpoint() {
  const std::string path = metrics_path();
  const int64_t size = file_size(path);
  if (size < 0) return;
  int64_t keep = state_.metrics_bytes;
  if (keep < 0 || keep > size) {
    // A checkpoint from before the length was kept: drop a torn last line only.
    const std::string text = read_file(path);
    keep = static_cast<int64_t>(text.empty() || text.back() == '\n' ? text.size() : text.rfind('\n') + 1);
  }
  int64_t removed = 0;
  if (keep < size) {
    const std::string text = read_file(path);
    for (size_t i = static_cast<size_t>(keep); i < text.size(); ++i) removed += text[i] == '\n';
    if (text.back() != '\n') ++removed;  // the torn line
    truncate_file(path, keep);
  }
  log_json(nlohmann::json{{"event", "resumed"}, {"step", state_.global_step}, {"removed_lines", removed}}.dump());
}

void Trainer::checkpoint(bool best) {
  ensure_finite();
  // best.pt first: a crash between the two writes leaves checkpoint.pt at
  // the previous epoch, which a resume then trains and validates again.
  state_.metrics_bytes = primary_ ? std::max<int64_t>(0, file_size(metrics_path())) : 0;
  state_.epoch_sums = epoch_sums_;
  state_.epoch_counts = epoch_counts_;
  if (best && primary_) save_best_checkpoint(run_dir_, *model_, state_, config_toml_);
  save_checkpoint(state_dir_, *model_, &objective_, state_, config_toml_);
}

// Never save a model that has left the numbers: that would replace the
// last good checkpoint with a broken one.
void Trainer::ensure_finite() {
  for (const auto& p : model_->named_parameters())
    if (!torch::isfinite(p.value()).all().item<bool>())
      throw diverged("parameter '" + p.key() + "' became non-finite by step " + std::to_string(state_.global_step) +
                     " (epoch " + std::to_string(state_.epoch + 1) + ")");
}

void Trainer::write_samples(const std::string& name) {
  auto sampler = as<Sampler>(model_);
  if (!primary_ || !sampler || (!data_.to_display && !data_.plot)) return;
  // Samples draw from a stream of their own: logging must not change training.
  RngStateGuard guard;
  torch::manual_seed(mix_seed(options_.seed, 0x5A3D1E, static_cast<uint64_t>(state_.global_step)));
  model_->eval();
  ensure_dir(run_dir_ + "/samples");
  const std::string path = run_dir_ + "/samples/" + name + ".png";
  if (data_.plot) {
    write_png(path, data_.plot(draw_samples(*sampler, kPlotPoints)));  // [3, S, S]
    return;
  }
  if (auto conditional = as<ClassConditional>(model_)) {
    // One row per class (the first sample_count classes when there are
    // more), as many columns as give about sample_count images.
    const int64_t rows = std::min(conditional->classes(), options_.sample_count);
    const int64_t per_class = (options_.sample_count + rows - 1) / rows;
    save_grid(path, data_.to_display(draw_class_rows(*conditional, per_class, rows)), per_class);
    return;
  }
  save_grid(path, data_.to_display(draw_samples(*sampler, options_.sample_count)));  // [n, C, H, W]
}

}  // namespace genzoo
