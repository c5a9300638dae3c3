#pragma once
// The genzoo command line: one file per subcommand, each adding itself to the
// app. Callbacks throw genzoo::Error for bad input; main() turns that into one
// line on stderr and exit status 2.
#include <CLI/CLI.hpp>

#include <string>

#include "genzoo/train/run.h"
#include "genzoo/train/run_inputs.h"

namespace genzoo::cli {

void add_data_command(CLI::App& app);
void add_models_command(CLI::App& app);
void add_train_command(CLI::App& app);
void add_sample_command(CLI::App& app);
void add_inpaint_command(CLI::App& app);
void add_compose_command(CLI::App& app);
void add_eval_command(CLI::App& app);
void add_compare_command(CLI::App& app);
void add_denoise_command(CLI::App& app);
void add_latent_command(CLI::App& app);
void add_featurenet_command(CLI::App& app);
void add_explain_command(CLI::App& app);
void add_report_command(CLI::App& app);

/// The recipe configs/<model>-<dataset>.toml when one exists (searched in
/// $GENZOO_CONFIGS, <prefix>/share/genzoo/configs next to the binary, and the
/// source tree), else "".
std::string find_recipe(const std::string& model, const std::string& dataset);

/// Adds --threads to a subcommand; call apply_threads() first in its callback.
void add_threads_option(CLI::App* sub, int& threads);
void apply_threads(int threads);

/// Adds --checkpoint best|last (default best) to eval and sample.
CLI::Option* add_checkpoint_option(CLI::App* sub, std::string& which);

/// "best.pt", "checkpoint.pt", ...: the file open_run loaded.
std::string checkpoint_name(const Run& run);

/// One line on the checkpoint open_run loaded: file, epoch, step, and the
/// validation score for best.pt.
std::string describe_checkpoint(const Run& run);


/// Exit status for training that diverged (NaN/inf loss).
constexpr int kExitDiverged = 3;
/// Exit status of a worker of a distributed run whose peer died or hung.
constexpr int kExitWorkerLost = 4;

/// Keeps the command line (main() calls it first) for --nproc to restart.
void set_command_line(int argc, char** argv);
/// Runs `nproc` copies of this command as the workers of one job on this
/// machine, torchrun's way (RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE,
/// MASTER_ADDR=127.0.0.1, MASTER_PORT: the variable's value, or a free
/// port), waits for them, and returns the exit status: 0, or the first
/// failed worker's (4 for one killed by a signal), naming it on stderr.
int launch_local_workers(int nproc, double timeout_seconds);

}  // namespace genzoo::cli
