#include "genzoo/train/checkpoint.h"

#include <unistd.h>

#include <cstdio>
#include <sstream>

#include "genzoo/core/error.h"
#include "genzoo/core/files.h"
#include "genzoo/core/rng.h"

namespace genzoo {

namespace {
constexpr int64_t kFormatVersion = 1;

torch::Tensor scalar_i64(int64_t v) { return torch::tensor(v, torch::kInt64); }

torch::serialize::OutputArchive make_archive(torch::nn::Module& model, const Objective* objective,
                                             const TrainerState& state, const std::string& config_toml) {
  torch::serialize::OutputArchive archive;
  archive.write("genzoo_checkpoint_version", scalar_i64(kFormatVersion));
  torch::serialize::OutputArchive model_archive;
  model.save(model_archive);
  archive.write("model", model_archive);
  if (objective) {
    torch::serialize::OutputArchive objective_archive;
    objective->save(objective_archive);
    archive.write("objective", objective_archive);
  }
  archive.write("trainer.epoch", scalar_i64(state.epoch));
  archive.write("trainer.batch_in_epoch", scalar_i64(state.batch_in_epoch));
  archive.write("trainer.global_step", scalar_i64(state.global_step));
  archive.write("trainer.elapsed_seconds", torch::tensor(state.elapsed_seconds, torch::kFloat64));
  archive.write("trainer.best_score", torch::tensor(state.best_score, torch::kFloat64));
  archive.write("trainer.best_epoch", scalar_i64(state.best_epoch));
  archive.write("trainer.best_step", scalar_i64(state.best_step));
  archive.write("trainer.rollbacks", scalar_i64(state.rollbacks));
  archive.write("rng", global_rng_state());
  archive.write("config", c10::IValue(config_toml));
  return archive;
}

// Writes `archive` to `path` + ".tmp" and returns that name; the caller
// renames it into place.
std::string write_tmp(torch::serialize::OutputArchive& archive, const std::string& path) {
  const std::string tmp = path + ".tmp";
  try {
    archive.save_to(tmp);
  } catch (const c10::Error& e) {
    std::remove(tmp.c_str());
    throw Error("cannot write checkpoint '" + tmp + "': " + e.what_without_backtrace());
  }
  return tmp;
}
}  // namespace

std::string checkpoint_path(const std::string& run_dir) { return run_dir + "/checkpoint.pt"; }
std::string previous_checkpoint_path(const std::string& run_dir) {
  return run_dir + "/checkpoint.prev.pt";
}
std::string best_checkpoint_path(const std::string& run_dir) { return run_dir + "/best.pt"; }

void save_checkpoint(const std::string& run_dir, torch::nn::Module& model,
                     const Objective* objective, const TrainerState& state,
                     const std::string& config_toml) {
  auto archive = make_archive(model, objective, state, config_toml);
  const std::string path = checkpoint_path(run_dir);
  const std::string tmp = write_tmp(archive, path);
  // checkpoint.pt exists at every moment: the current one is hard-linked to
  // become the previous one, then the new file replaces it in one rename.
  if (file_exists(path)) {
    const std::string prev = previous_checkpoint_path(run_dir);
    const std::string prev_tmp = prev + ".tmp";
    std::remove(prev_tmp.c_str());
    if (::link(path.c_str(), prev_tmp.c_str()) != 0 || std::rename(prev_tmp.c_str(), prev.c_str()) != 0)
      throw Error("cannot keep the previous checkpoint of '" + run_dir + "'");
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0)
    throw Error("cannot move '" + tmp + "' to '" + path + "'");
}

void save_best_checkpoint(const std::string& run_dir, torch::nn::Module& model, const TrainerState& state,
                          const std::string& config_toml) {
  auto archive = make_archive(model, nullptr, state, config_toml);
  const std::string path = best_checkpoint_path(run_dir);
  const std::string tmp = write_tmp(archive, path);
  if (std::rename(tmp.c_str(), path.c_str()) != 0)
    throw Error("cannot move '" + tmp + "' to '" + path + "'");
}

TrainerState load_checkpoint(const std::string& path, torch::nn::Module& model,
                             Objective* objective) {
  if (!file_exists(path)) throw Error("checkpoint '" + path + "' does not exist");
  TrainerState state;
  try {
    torch::serialize::InputArchive archive;
    archive.load_from(path);
    torch::Tensor version;
    if (!archive.try_read("genzoo_checkpoint_version", version))
      throw Error("'" + path + "' is not a genzoo checkpoint");
    if (version.item<int64_t>() != kFormatVersion)
      throw Error("checkpoint '" + path + "' has format version " +
                  std::to_string(version.item<int64_t>()) + ", this genzoo reads version " +
                  std::to_string(kFormatVersion));
    torch::serialize::InputArchive model_archive;
    archive.read("model", model_archive);
    try {
      load_module_checked(model, model_archive);
    } catch (const Error& e) {
      throw Error("checkpoint '" + path + "' does not match the model: it " + e.what());
    }
    if (objective) {
      torch::serialize::InputArchive objective_archive;
      archive.read("objective", objective_archive);
      try {
        objective->load(objective_archive);
      } catch (const c10::Error&) {
        throw Error("checkpoint '" + path +
                    "' holds optimizer state that does not fit this run's optimizer (was optim.name changed?)");
      }
    }
    // InputArchive::read writes into a defined tensor in place, so every key
    // gets a fresh one.
    auto read = [&archive](const char* key) {
      torch::Tensor t;
      archive.read(key, t);
      return t;
    };
    state.epoch = read("trainer.epoch").item<int64_t>();
    state.batch_in_epoch = read("trainer.batch_in_epoch").item<int64_t>();
    state.global_step = read("trainer.global_step").item<int64_t>();
    state.elapsed_seconds = read("trainer.elapsed_seconds").item<double>();
    // Absent from checkpoints written before validation splits existed.
    torch::Tensor best_score, best_epoch, best_step, rollbacks;
    if (archive.try_read("trainer.best_score", best_score)) state.best_score = best_score.item<double>();
    if (archive.try_read("trainer.best_epoch", best_epoch)) state.best_epoch = best_epoch.item<int64_t>();
    if (archive.try_read("trainer.best_step", best_step)) state.best_step = best_step.item<int64_t>();
    if (archive.try_read("trainer.rollbacks", rollbacks)) state.rollbacks = rollbacks.item<int64_t>();
    set_global_rng_state(read("rng"));
  } catch (const c10::Error& e) {
    throw Error("checkpoint '" + path + "' is corrupt or unreadable: " +
                std::string(e.what_without_backtrace()).substr(0, 200));
  }
  return state;
}

}  // namespace genzoo
