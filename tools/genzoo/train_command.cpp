// genzoo train MODEL --data DATASET [...]: fresh runs and --resume.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <memory>

#include "commands.h"
#include "genzoo/core/error.h"
#include "genzoo/core/files.h"
#include "genzoo/core/rng.h"
#include "genzoo/core/device.h"
#include "genzoo/train/distributed.h"
#include <nlohmann/json.hpp>
#include "genzoo/eval/feature_net.h"
#include "genzoo/train/checkpoint.h"
#include "genzoo/train/registry.h"
#include "genzoo/train/run.h"

namespace genzoo::cli {

namespace {

struct TrainArgs {
  std::string model, data, out, config_file, binarize;
  std::vector<std::string> sets;
  int64_t epochs = -1, steps = -1, seed = -1;
  double time_limit = -1;
  int threads = 0;
  bool resume = false;
  int nproc = 0;
  double dist_timeout = 1800;
  std::string device = "cpu";
};

std::string default_run_dir(const std::string& model, const std::string& data) {
  std::string clean;
  for (char c : data) clean += std::isalnum(static_cast<unsigned char>(c)) || c == '-' ? c : '_';
  std::time_t now = std::time(nullptr);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", std::localtime(&now));
  return "runs/" + model + "-" + clean + "-" + stamp;
}

// Command-line flags win over --set, which wins over the recipe / --config.
void apply_flags(const TrainArgs& a, Config& c) {
  for (const auto& s : a.sets) c.set_from_string(s);
  if (!a.binarize.empty()) c.set("data.binarize", a.binarize);
  if (a.epochs >= 0) c.set("train.epochs", a.epochs);
  if (a.steps >= 0) c.set("train.steps", a.steps);
  const bool time_given = a.time_limit >= 0 || std::isnan(a.time_limit);  // nan: rejected later
  if (time_given) c.set("train.time_limit", a.time_limit);
  if (a.seed >= 0) c.set("train.seed", a.seed);
  // A budget given on the command line replaces the recipe's budget.
  if (a.epochs >= 0 || a.steps >= 0 || time_given) {
    if (a.epochs < 0) c.set("train.epochs", int64_t{0});
    if (a.steps < 0) c.set("train.steps", int64_t{0});
    if (!time_given) c.set("train.time_limit", 0.0);
  }
}

// Grey 28 x 28 images of a dataset with a shipped feature network: its
// 128-d features are where a GAN's health check measures sample diversity
// (the samples shown as the network sees them, grey values in [0, 1]).
void offer_feature_space(const Run& run, Objective& objective, bool say) {
  if (!run.transform || run.spec.channels != 1 || run.spec.height != 28 || run.spec.width != 28) return;
  const FeatureNetInfo info = feature_net_info(run.dataset.name);
  if (!file_exists(info.path)) return;
  auto net = std::make_shared<FeatureNet>(load_feature_net(run.dataset.name));
  auto transform = run.transform;
  auto features = [net, transform](const torch::Tensor& x) {
    return extract_features(*net, transform->to_display(x).reshape({x.size(0), 1, 28, 28}));
  };
  if (objective.use_feature_space(features, "the feature space of " + info.id) && say)
    std::fprintf(stderr, "sample diversity measured in the feature space of %s\n", info.id.c_str());
}

// Everything a worker builds before training: the run, its objective and
// trainer. Nothing is written yet.
struct Prepared {
  std::string dir;
  bool resuming = false;
  int64_t start_step = 0;  // the step this invocation starts from
  Run run;
  std::unique_ptr<Objective> objective;
  TrainerOptions options;
  std::unique_ptr<Trainer> trainer;
};

// The number of workers that trained a run (RUN/distributed.json), 1 when
// it has none.
int64_t trained_world(const std::string& dir) {
  const std::string path = dir + "/distributed.json";
  if (!file_exists(path)) return 1;
  try {
    return nlohmann::json::parse(read_file(path)).at("world_size").get<int64_t>();
  } catch (const std::exception& e) {
    throw Error("'" + path + "' is not readable: " + std::string(e.what()).substr(0, 120));
  }
}

std::unique_ptr<Prepared> prepare(const TrainArgs& a, int64_t rank, int64_t world) {
  const bool primary = rank == 0;
  auto note = [primary](const std::string& text) {
    if (primary) std::fprintf(stderr, "%s\n", text.c_str());
  };
  auto p = std::make_unique<Prepared>();
  Config config;
  std::string& dir = p->dir;
  dir = a.out;
  if (a.resume) {
    if (dir.empty()) throw Error("--resume needs --out RUN, the run folder to continue");
    if (!file_exists(run_config_path(dir)))
      throw Error("cannot resume: '" + dir + "' is not a genzoo run folder (no config.toml)");
    if (!a.config_file.empty()) throw Error("--config cannot change a run being resumed; use --set");
    config = Config::from_file(run_config_path(dir));
    auto stored_model = config.get_string("model.name", "");
    auto stored_data = config.get_string("data.name", "");
    if (!a.model.empty() && a.model != stored_model)
      throw Error("cannot resume '" + dir + "' as model '" + a.model + "': it trains '" + stored_model + "'");
    if (!a.data.empty() && a.data != stored_data)
      throw Error("cannot resume '" + dir + "' on '" + a.data + "': it trains on '" + stored_data + "'");
    if (primary) {
      // Each worker's random stream (and replay buffer, chains) is in its own
      // checkpoint: only the same number of workers continues the run.
      const int64_t before = trained_world(dir);
      if (before != world)
        throw Error("cannot resume '" + dir + "' with " + std::to_string(world) + " worker" + (world == 1 ? "" : "s") +
                    ": it was trained by " + std::to_string(before) +
                    (before == 1 ? " process; resume it without --nproc"
                                 : " workers, each with its own checkpoint (random stream, replay buffer); resume it "
                                   "with --nproc " + std::to_string(before) + " or as many workers"));
    }
  } else {
    if (a.model.empty()) throw Error("no model given: genzoo train MODEL --data DATASET (see 'genzoo models')");
    find_model(a.model);  // unknown names fail before any data is read
    if (a.data.empty()) throw Error("no dataset given: use --data NAME (see 'genzoo data list')");
    std::string recipe = a.config_file.empty() ? find_recipe(a.model, a.data) : a.config_file;
    if (!recipe.empty()) {
      config = Config::from_file(recipe);
      note("recipe: " + recipe);
    }
    if (config.has("model.name") && config.get_string("model.name", "") != a.model)
      throw Error("config '" + recipe + "' is for model '" + config.get_string("model.name", "") +
                  "', not '" + a.model + "'");
    config.set("model.name", a.model);
    config.set("data.name", a.data);
    if (dir.empty()) {
      if (world > 1) throw Error("a distributed run needs --out RUN: every worker must name the same run folder");
      dir = default_run_dir(a.model, a.data);
    }
    if (primary)  // the others would see rank 0's first files
      for (const auto& f : {checkpoint_path(dir), previous_checkpoint_path(dir), run_config_path(dir),
                            dir + "/metrics.jsonl"})
        if (file_exists(f))
          throw Error("'" + dir + "' already holds a run (" + f.substr(dir.size() + 1) +
                      "); use --resume to continue it or another --out");
  }
  const Config stored = config;
  // A run killed before its first checkpoint (step 0, written as training
  // starts, before any log line, grid or best.pt) trained nothing: resuming
  // it starts it again from its config. A folder that lost its checkpoint
  // later is an error, not a fresh start over its results.
  const std::string own = worker_dir(dir, rank);
  const bool from_scratch = a.resume && !file_exists(checkpoint_path(own));
  if (from_scratch && primary) {
    for (const auto& f : {previous_checkpoint_path(dir), best_checkpoint_path(dir), dir + "/samples"})
      if (file_exists(f))
        throw Error("cannot resume: '" + dir + "' has no checkpoint.pt but has " + f.substr(dir.size() + 1) +
                    " (was checkpoint.pt deleted?)");
    if (file_size(dir + "/metrics.jsonl") > 0)
      throw Error("cannot resume: '" + dir + "' has no checkpoint.pt but has a metrics.jsonl (was checkpoint.pt deleted?)");
    note("'" + dir + "' was stopped before its first checkpoint: starting it again from step 0");
  }
  p->resuming = a.resume && !from_scratch;
  apply_flags(a, config);
  if (a.resume) {
    // The model, the data, the optimizer and the batch order define the run:
    // resuming with any of them changed would not continue it.
    for (const auto& [key, value] : config.values()) {
      // optim.name and each player's optim_g.name / optim_d.name: the
      // optimizer state in the checkpoint is of that kind. objective.loss
      // and objective.unsupervised change what the objective is.
      const bool optimizer_kind = key.rfind("optim", 0) == 0 && key.size() > 5 &&
                                  key.compare(key.size() - 5, 5, ".name") == 0;
      bool defining = key.rfind("model.", 0) == 0 || key.rfind("data.", 0) == 0 ||
                      key == "train.seed" || key == "train.batch_size" || optimizer_kind ||
                      key == "train.validation" || key == "train.select_by" || key == "objective.loss" ||
                      key == "objective.unsupervised";
      auto it = stored.values().find(key);
      if (defining && (it == stored.values().end() || it->second != value))
        throw Error("cannot change '" + key + "' of a run being resumed; start a new run instead");
    }
  }

  // Seed before the model is built: initial weights come from the global stream.
  seed_everything(static_cast<uint64_t>(config.get_int("train.seed", 0)));
  p->run = build_run(config, dir);
  Run& run = p->run;
  // Fine-tuning: a fresh run that starts from another run's weights.
  const std::string init_from = run.config.get_string("train.init_from", "");
  if (!init_from.empty() && !p->resuming) {
    if (!file_exists(run_config_path(init_from)))
      throw Error("train.init_from = '" + init_from + "' is not a genzoo run folder (no config.toml)");
    Run source = open_run(init_from, "best");
    if (source.info->name != run.info->name)
      throw Error("train.init_from = '" + init_from + "' trains '" + source.info->name + "', not '" + run.info->name + "'");
    // Its parameters, and the buffers of the same shape (a training mean;
    // not persistent chains of another count, which stay as built).
    auto theirs = source.model->named_parameters(), their_buffers = source.model->named_buffers();
    torch::NoGradGuard no_grad;
    for (auto& param : run.model->named_parameters()) {
      const auto* t = theirs.find(param.key());
      if (!t || t->sizes() != param.value().sizes())
        throw Error("train.init_from = '" + init_from + "': its parameter '" + param.key() + "' is " +
                    (t ? c10::str(t->sizes()) : std::string("missing")) + ", this model's is " +
                    c10::str(param.value().sizes()) + " (the same model.* keys are needed)");
      param.value().copy_(*t);
    }
    for (auto& b : run.model->named_buffers())
      if (const auto* t = their_buffers.find(b.key()); t && t->sizes() == b.value().sizes()) b.value().copy_(*t);
    note("starting from the weights of " + source.checkpoint_file);
  }
  p->objective = run.objective->create(run.model, run.config);
  offer_feature_space(run, *p->objective, primary);
  // Model selection by the objective's own held-out score unless the config says otherwise.
  if (!run.config.has("train.select_by")) run.config.set("train.select_by", p->objective->held_out_metrics().front());
  p->options = TrainerOptions::from_config(run.config);
  run.config.check_all_used();
  // A resume that cannot load its checkpoint fails here, before the run's
  // config.toml is touched.
  if (p->resuming) p->start_step = load_checkpoint(checkpoint_path(own), *run.model, p->objective.get()).global_step;
  // The trainer checks its options against the data (patience needs a
  // validation split, train.select_by a metric the model reports) before the
  // run folder is written.
  p->trainer = std::make_unique<Trainer>(p->options, dir, run.model, *p->objective, run.data, run.config.to_toml());
  return p;
}

void run_train(const TrainArgs& a) {
  if (a.device != "cpu")
    throw Error(std::string("--device ") + a.device + ": genzoo trains on the CPU only (this LibTorch " +
                (torch::cuda::is_available() ? "sees a GPU" : "has no CUDA") +
                "; data-parallel runs use Gloo, not NCCL)");
  const WorkerEnv env = WorkerEnv::from_environment();
  if (a.nproc > 1 && !env.distributed()) {
    // The launcher: this process only starts the workers and waits.
    std::exit(launch_local_workers(a.nproc, a.dist_timeout));
  }
  if (a.nproc > 1 && env.world != a.nproc)
    throw Error("--nproc " + std::to_string(a.nproc) + " in a job of " + std::to_string(env.world) +
                " workers (WORLD_SIZE, or SLURM_NTASKS): launch with one or the other");
  // The cores of this machine, shared by its workers.
  apply_threads(a.threads > 0 ? a.threads : std::max<int>(1, hardware_threads() / static_cast<int>(env.local_world)));
  if (env.distributed()) set_process_group(std::make_unique<ProcessGroup>(env, a.dist_timeout));
  ProcessGroup* group = process_group();
  const bool primary = env.rank == 0;

  // Every worker prepares the same run; when one cannot, none trains.
  std::unique_ptr<Prepared> p;
  std::string failure;
  try {
    p = prepare(a, env.rank, env.world);
  } catch (const Error& e) {
    if (!group) throw;
    failure = e.what();
  } catch (const std::exception& e) {
    if (!group) throw;
    failure = "rank " + std::to_string(env.rank) + " could not prepare the run: " + one_line(e.what()).substr(0, 300);
  }
  if (group) {
    auto votes = torch::tensor({failure.empty() ? 0.0 : 1.0, p && p->resuming ? 1.0 : 0.0}, torch::kFloat64);
    group->all_reduce_sum({votes});
    if (!failure.empty()) throw Error(failure);
    if (votes[0].item<double>() > 0)
      throw Error("rank " + std::to_string(env.rank) + ": stopping, another worker could not prepare the run (its "
                  "message says why)");
    const double resuming = votes[1].item<double>();
    if (resuming != 0 && resuming != static_cast<double>(env.world))
      throw Error("cannot resume '" + p->dir + "': rank " + std::to_string(env.rank) + (p->resuming ? " has" : " has no") +
                  " checkpoint of its own (" + checkpoint_path(worker_dir(p->dir, env.rank)) +
                  ") and another worker " + (p->resuming ? "has none" : "has one"));
  }

  const std::string& dir = p->dir;
  Run& run = p->run;
  if (primary) {
    ensure_dir(dir);
    run.config.save(run_config_path(dir));
    if (group && !p->resuming) {
      nlohmann::json d{{"world_size", env.world},
                       {"launcher", env.launcher},
                       {"global_batch", p->options.batch_size},
                       {"note", "train.batch_size is the global batch; each worker takes its share of every batch"}};
      write_file_atomic(dir + "/distributed.json", d.dump(2) + "\n");
    }
    const int64_t n_val = run.data.validation.defined() ? run.data.validation.size(0) : 0;
    std::fprintf(stderr, "%s %s on %s (%lld train%s / %lld test), run folder %s\n",
                 p->resuming ? "resuming" : "training", run.info->name.c_str(),
                 run.dataset.name.c_str(), static_cast<long long>(run.data.train.size(0)),
                 n_val > 0 ? (" / " + std::to_string(n_val) + " validation").c_str() : "",
                 static_cast<long long>(run.data.test.defined() ? run.data.test.size(0) : 0),
                 dir.c_str());
    if (group)
      std::fprintf(stderr, "data-parallel: %lld workers (%s), global batch %lld (about %lld per worker), %d threads each\n",
                   static_cast<long long>(env.world), env.launcher.c_str(),
                   static_cast<long long>(p->options.batch_size),
                   static_cast<long long>(p->options.batch_size / env.world), torch::get_num_threads());
  }
  TrainSummary s = p->trainer->run(p->resuming);
  if (group) group->barrier();  // rank 0's last files are written before anyone reports success
  if (!primary) return;
  std::printf("run %s: %lld epochs, %lld steps, %.1f s", dir.c_str(),
              static_cast<long long>(s.state.epoch), static_cast<long long>(s.state.global_step),
              s.state.elapsed_seconds);
  for (const auto& kv : s.last_eval) std::printf(", test %s %.4f", kv.first.c_str(), kv.second);
  if (std::isfinite(s.state.best_score))
    std::printf("; best validation %s %.4f at epoch %lld, step %lld (best.pt)%s", p->options.select_by.c_str(),
                s.state.best_score, static_cast<long long>(s.state.best_epoch),
                static_cast<long long>(s.state.best_step), s.stopped_early ? ", stopped early" : "");
  if (group) {
    // Time in collectives includes waiting for the slowest worker.
    const int64_t steps = std::max<int64_t>(1, s.state.global_step - p->start_step);
    std::printf("; %lld workers, %.1f s in collectives on rank 0, %.0f bytes all-reduced per step",
                static_cast<long long>(env.world), group->seconds_communicating(),
                static_cast<double>(group->bytes_reduced()) / static_cast<double>(steps));
  }
  std::printf("\n");
}

}  // namespace

void add_train_command(CLI::App& app) {
  auto args = std::make_shared<TrainArgs>();
  auto* cmd = app.add_subcommand("train", "Train a model (a fresh run, or --resume one)");
  cmd->add_option("MODEL", args->model, "Model name (see 'genzoo models')");
  cmd->add_option("--data", args->data, "Dataset name or spec (see 'genzoo data list')");
  cmd->add_option("--out", args->out, "Run folder (default runs/MODEL-DATASET-TIME)");
  cmd->add_option("--config", args->config_file,
                  "Recipe TOML (default configs/MODEL-DATASET.toml when it exists)");
  cmd->add_option("--set", args->sets, "Override a config key: --set optim.lr=1e-3 (repeatable)");
  auto* epochs = cmd->add_option("--epochs", args->epochs, "Train for N epochs")->check(CLI::NonNegativeNumber);
  auto* steps = cmd->add_option("--steps", args->steps, "Train for N optimisation steps")->check(CLI::NonNegativeNumber);
  auto* time = cmd->add_option("--time-limit", args->time_limit, "Train for at most SECONDS of wall time")
                   ->check(CLI::NonNegativeNumber);
  epochs->excludes(steps)->excludes(time);
  steps->excludes(time);
  cmd->add_option("--seed", args->seed, "Random seed (default 0)")->check(CLI::NonNegativeNumber);
  cmd->add_option("--binarize", args->binarize, "none|threshold|static|dynamic")
      ->check(CLI::IsMember({"none", "threshold", "static", "dynamic"}));
  cmd->add_flag("--resume", args->resume, "Continue the run in --out from its checkpoint");
  add_threads_option(cmd, args->threads);
  cmd->add_option("--nproc", args->nproc,
                  "Data-parallel training on this machine: start N workers (c10d, Gloo), as torchrun would; "
                  "train.batch_size is then the global batch")
      ->check(CLI::Range(1, 256));
  cmd->add_option("--device", args->device, "cpu (the only one genzoo trains on)")
      ->check(CLI::IsMember({"cpu", "cuda"}))
      ->capture_default_str();
  cmd->add_option("--dist-timeout", args->dist_timeout,
                  "Seconds a worker waits for the others (a collective, the rendezvous) before it stops and "
                  "names the rank that did not answer")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->callback([args] { run_train(*args); });
}

}  // namespace genzoo::cli
