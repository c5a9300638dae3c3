#include "genzoo/train/checkpoint.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <sstream>

#include "genzoo/core/crash_points.h"
#include "genzoo/core/error.h"
#include "genzoo/core/files.h"
#include "genzoo/core/rng.h"
#include "genzoo/train/archive_check.h"

namespace genzoo {

namespace {
constexpr int64_t kFormatVersion = 1;

torch::Tensor scalar_i64(int64_t v) { return torch::tensor(v, torch::kInt64); }

using Named = std::vector<std::pair<std::string, double>>;

// Names as one byte tensor ("a\nb\n"), values as float64: archives hold tensors.
void write_named(torch::serialize::OutputArchive& archive, const std::string& key, const Named& named) {
  std::string names;
  std::vector<double> values;
  for (const auto& [name, value] : named) {
    names += name + "\n";
    values.push_back(value);
  }
  archive.write(key + ".names",
                torch::from_blob(names.data(), {static_cast<int64_t>(names.size())}, torch::kUInt8).clone());
  archive.write(key + ".values", torch::tensor(values, torch::kFloat64));
}

Named read_named(torch::serialize::InputArchive& archive, const std::string& key) {
  torch::Tensor names, values;
  if (!archive.try_read(key + ".names", names) || !archive.try_read(key + ".values", values)) return {};
  names = names.contiguous();
  values = values.to(torch::kFloat64).contiguous();
  const std::string text(reinterpret_cast<const char*>(names.data_ptr<uint8_t>()), static_cast<size_t>(names.numel()));
  Named named;
  size_t at = 0;
  for (int64_t i = 0; i < values.numel(); ++i) {
    const size_t end = text.find('\n', at);
    if (end == std::string::npos) throw Error("its " + key + " names are cut short");
    named.emplace_back(text.substr(at, end - at), values.data_ptr<double>()[i]);
    at = end + 1;
  }
  return named;
}

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
  archive.write("trainer.metrics_bytes", scalar_i64(state.metrics_bytes));
  archive.write("trainer.epoch_end_step", scalar_i64(state.epoch_end_step));
  archive.write("trainer.scored_step", scalar_i64(state.scored_step));
  write_named(archive, "trainer.epoch_sums", state.epoch_sums);
  write_named(archive, "trainer.epoch_counts", state.epoch_counts);
  archive.write("rng", global_rng_state());
  archive.write("config", c10::IValue(config_toml));
  return archive;
}

// Writes `archive` to `path` + ".tmp" and returns that name; the caller
// renames it into place. The archive is serialised in memory first:
// LibTorch's file writer reports a failed write (a full disk) by throwing
// from a destructor, which ends the process; our own writer fails with one
// line and removes the partial file.
std::string write_tmp(torch::serialize::OutputArchive& archive, const std::string& path) {
  std::ostringstream bytes;
  try {
    archive.save_to(bytes);
  } catch (const c10::Error& e) {
    throw Error("cannot serialise checkpoint '" + path + "': " + e.what_without_backtrace());
  }
  const std::string tmp = path + ".tmp";
  write_file(tmp, bytes.str());
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
  crash_point("checkpoint.tmp_written");
  // checkpoint.pt exists at every moment: the current one is hard-linked to
  // become the previous one, then the new file replaces it in one rename.
  if (file_exists(path)) {
    const std::string prev = previous_checkpoint_path(run_dir);
    const std::string prev_tmp = prev + ".tmp";
    std::remove(prev_tmp.c_str());
    if (::link(path.c_str(), prev_tmp.c_str()) != 0 || std::rename(prev_tmp.c_str(), prev.c_str()) != 0)
      throw Error("cannot keep the previous checkpoint of '" + run_dir + "'");
    crash_point("checkpoint.prev_linked");
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0)
    throw Error("cannot move '" + tmp + "' to '" + path + "'");
}

void save_best_checkpoint(const std::string& run_dir, torch::nn::Module& model, const TrainerState& state,
                          const std::string& config_toml) {
  auto archive = make_archive(model, nullptr, state, config_toml);
  const std::string path = best_checkpoint_path(run_dir);
  const std::string tmp = write_tmp(archive, path);
  crash_point("best.tmp_written");
  if (std::rename(tmp.c_str(), path.c_str()) != 0)
    throw Error("cannot move '" + tmp + "' to '" + path + "'");
}

TrainerState load_checkpoint(const std::string& path, torch::nn::Module& model,
                             Objective* objective) {
  if (!file_exists(path)) throw Error("checkpoint '" + path + "' does not exist");
  TrainerState state;
  try {
    // Read once, checked, then handed to LibTorch: what is checked is what loads.
    const std::string bytes = read_file(path);
    check_torch_archive(bytes, "checkpoint '" + path + "'");
    torch::serialize::InputArchive archive;
    archive.load_from(bytes.data(), bytes.size());
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
    torch::Tensor best_score, best_epoch, best_step, rollbacks, metrics_bytes, epoch_end_step, scored_step;
    if (archive.try_read("trainer.best_score", best_score)) state.best_score = best_score.item<double>();
    if (archive.try_read("trainer.best_epoch", best_epoch)) state.best_epoch = best_epoch.item<int64_t>();
    if (archive.try_read("trainer.best_step", best_step)) state.best_step = best_step.item<int64_t>();
    if (archive.try_read("trainer.rollbacks", rollbacks)) state.rollbacks = rollbacks.item<int64_t>();
    if (archive.try_read("trainer.metrics_bytes", metrics_bytes)) state.metrics_bytes = metrics_bytes.item<int64_t>();
    if (archive.try_read("trainer.epoch_end_step", epoch_end_step)) state.epoch_end_step = epoch_end_step.item<int64_t>();
    // A checkpoint from before the key: its model counts as scored.
    state.scored_step = archive.try_read("trainer.scored_step", scored_step) ? scored_step.item<int64_t>()
                                                                             : state.global_step;
    state.epoch_sums = read_named(archive, "trainer.epoch_sums");
    state.epoch_counts = read_named(archive, "trainer.epoch_counts");
    bool sums_ok = state.epoch_sums.size() == state.epoch_counts.size();
    for (size_t k = 0; sums_ok && k < state.epoch_sums.size(); ++k)
      sums_ok = state.epoch_sums[k].first == state.epoch_counts[k].first && std::isfinite(state.epoch_sums[k].second) &&
                state.epoch_counts[k].second >= 1 && std::isfinite(state.epoch_counts[k].second);
    if (!sums_ok) throw Error("checkpoint '" + path + "' is corrupt: its running epoch sums do not fit together");
    set_global_rng_state(read("rng"));
    // Counts a trainer can have written; anything else is damage.
    if (state.epoch < 0 || state.batch_in_epoch < 0 || state.global_step < 0 || state.best_epoch < 0 ||
        state.best_step < 0 || state.rollbacks < 0 || state.metrics_bytes < -1 || state.epoch_end_step < -1 ||
        state.epoch_end_step > state.global_step || state.scored_step < -1 || state.scored_step > state.global_step ||
        !(state.elapsed_seconds >= 0) ||
        std::isinf(state.elapsed_seconds) || std::isnan(state.best_score))
      throw Error("checkpoint '" + path + "' is corrupt: its trainer position is out of range (epoch " +
                  std::to_string(state.epoch) + ", step " + std::to_string(state.global_step) + ")");
    for (const auto& p : model.named_parameters())
      if (!torch::isfinite(p.value()).all().item<bool>())
        throw Error("checkpoint '" + path + "' is corrupt: parameter '" + p.key() + "' is not finite");
  } catch (const Error&) {
    throw;
  } catch (const c10::Error& e) {
    throw Error("checkpoint '" + path + "' is corrupt or unreadable: " +
                std::string(e.what_without_backtrace()).substr(0, 200));
  } catch (const std::exception& e) {
    // LibTorch compiles the archive's TorchScript, whose parser throws its own errors.
    throw Error("checkpoint '" + path + "' is corrupt or unreadable: " + std::string(e.what()).substr(0, 200));
  }
  return state;
}

}  // namespace genzoo
