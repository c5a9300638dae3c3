#pragma once
// Data-parallel training on PyTorch's distributed engine, c10d: a TCPStore
// hosted by rank 0 for the rendezvous and a Gloo process group for the
// collectives (CPU tensors). LibTorch has no DistributedDataParallel in C++;
// the glue here is genzoo's:
//   - who this worker is, from the variables torchrun sets (RANK,
//     WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT),
//     or from SLURM's srun (SLURM_PROCID, SLURM_STEP_NUM_TASKS, ...) where
//     those are absent; under torchrun, its agent's store is shared;
//   - one process group per process (process_group()), installed by
//     `genzoo train` when the world has more than one worker;
//   - average_gradients(): the objectives call it between backward and the
//     optimizer step, so every optimizer (a GAN has two) steps on the
//     global batch's gradient. Gradients travel flattened in buckets of at
//     most kBucketBytes, one collective per bucket, not one per tensor;
//   - failures (a peer that died, hung past the timeout, a port in use, an
//     unreachable master) become one line naming the rank.
// The C10D headers stay in distributed.cpp: this header needs LibTorch only.
#include <torch/torch.h>

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace genzoo {

/// This process's place in a data-parallel job. Under SLURM, a task of an
/// srun step (SLURM_PROCID, SLURM_STEP_NUM_TASKS, SLURM_LOCALID,
/// SLURM_STEP_TASKS_PER_NODE; MASTER_ADDR must be set); a batch script
/// outside srun trains alone.
struct WorkerEnv {
  int64_t rank = 0, world = 1;              // global
  int64_t local_rank = 0, local_world = 1;  // on this machine
  std::string master_addr;                  // rank 0's host, which holds the store
  int port = 0;                             // the store's port
  std::string launcher = "none";            // "torchrun", "genzoo --nproc", "slurm", "none"
  bool agent_store = false;                 // torchrun's agent hosts the store (TORCHELASTIC_USE_AGENT_STORE)
  int64_t restart = 0;                      // TORCHELASTIC_RESTART_COUNT

  bool distributed() const { return world > 1; }
  /// Reads the environment. No variable set: one worker alone. Variables
  /// that disagree (RANK >= WORLD_SIZE, a port out of range, MASTER_ADDR
  /// missing in a world of several): a genzoo::Error naming the variable.
  static WorkerEnv from_environment();
};

/// A peer worker failed: it died, hung past the timeout, or left. The
/// message names the rank when it can be known. `genzoo train` exits 4.
class WorkerLost : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Gradients are all-reduced in flat buckets of at most this many bytes.
constexpr int64_t kBucketBytes = int64_t{16} << 20;

class ProcessGroup {
 public:
  /// Joins the job: rank 0 hosts the TCPStore on env.port (a port in use is
  /// a genzoo::Error), the others connect to env.master_addr:env.port (an
  /// unreachable master is a genzoo::Error after `timeout_seconds`). Every
  /// collective after that fails with WorkerLost once it has waited
  /// `timeout_seconds`.
  ProcessGroup(const WorkerEnv& env, double timeout_seconds);
  ~ProcessGroup();
  ProcessGroup(const ProcessGroup&) = delete;
  ProcessGroup& operator=(const ProcessGroup&) = delete;

  int64_t rank() const { return env_.rank; }
  int64_t world() const { return env_.world; }
  bool primary() const { return env_.rank == 0; }

  /// Rank 0's tensors copied into everyone's, in place (same shapes).
  void broadcast(std::vector<torch::Tensor> tensors);
  /// Elementwise sums over the workers, in place, in flat buckets.
  void all_reduce_sum(std::vector<torch::Tensor> tensors);
  /// Rank 0's string, on every worker.
  std::string broadcast_string(const std::string& text);
  /// Rank 0's decisions (stop, checkpoint now, ...), on every worker.
  std::vector<bool> agree(const std::vector<bool>& decisions);
  /// Waits until every worker has arrived.
  void barrier();

  /// This worker's share of the global batch last taken (its rows / all
  /// rows): the weight of its gradients and step metrics in the means, so
  /// that uneven shards average exactly as one process would.
  void set_share(double share) { share_ = share; }
  double share() const { return share_; }

  /// Bytes all-reduced and seconds spent in collectives since the start.
  int64_t bytes_reduced() const { return bytes_reduced_; }
  double seconds_communicating() const { return seconds_communicating_; }

 private:
  struct Impl;
  /// Runs a collective; a failure becomes WorkerLost naming the lost rank.
  template <typename F>
  void guarded(const char* what, F&& f);
  [[noreturn]] void lost(const char* what, const std::string& detail);

  WorkerEnv env_;
  double timeout_seconds_;
  std::unique_ptr<Impl> impl_;
  double share_ = 1;
  int64_t bytes_reduced_ = 0;
  double seconds_communicating_ = 0;
};

/// The process group of this process; null when it trains alone.
ProcessGroup* process_group();
/// Installs (or with null, removes) the process group of this process.
void set_process_group(std::unique_ptr<ProcessGroup> group);

/// Replaces each gradient of `params` by the weighted mean over the workers
/// (weights: each worker's share()), i.e. the gradient one process would get
/// on the global batch. A parameter without a gradient on some worker counts
/// as zero there; one without a gradient on every worker keeps none (an
/// optimizer then skips it, as it would alone). No-op without a group.
void average_gradients(const std::vector<torch::Tensor>& params);

/// The step's metrics as their share-weighted means over the workers, so
/// that every worker logs and checks the same figures. No-op alone.
void average_metrics(std::vector<std::pair<std::string, double>>& metrics);

/// Rank 0's parameters (and with `buffers`, its buffers) copied into this
/// worker's model.
void broadcast_module(torch::nn::Module& module, bool buffers = true);

}  // namespace genzoo
