// Data-parallel training (c10d, Gloo) on 127.0.0.1: two workers end where
// one process ends on the same global batches, hold identical parameters at
// every checkpoint, resume only with the same number of workers, use every
// example of an epoch exactly once between them, and stop within the
// timeout, naming the rank, when a peer dies or hangs.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include "genzoo/core/error.h"
#include "genzoo/core/files.h"
#include "genzoo/train/checkpoint.h"
#include "genzoo/train/distributed.h"
#include "genzoo/train/run.h"
#include "genzoo/train/trainer.h"
#include "test_support.h"

namespace genzoo {
namespace {

using testing::run_cli;
using testing::spawn_cli;
using testing::TempDir;

// FVSBN on digits 0 and 1 of mnist-10k (1,703 training rows: 26 batches of
// 64 and one of 39), dynamically binarized, a step logged each time.
std::string fvsbn_args(const std::string& out) {
  return "train fvsbn --data mnist-10k --out " + out +
         " --threads 1 --set train.batch_size=64 --set data.binarize=dynamic --set data.classes=0,1"
         " --set train.validation=0 --set train.patience=0 --set train.log_every=1";
}

// The parameters of a checkpoint file, loaded into the run's model.
std::map<std::string, torch::Tensor> parameters_of(const std::string& run, const std::string& file) {
  Run r = open_run(run, "last");
  load_checkpoint(file, *r.model, nullptr);
  std::map<std::string, torch::Tensor> out;
  for (const auto& p : r.model->named_parameters()) out[p.key()] = p.value().detach().clone();
  return out;
}

double largest_difference(const std::map<std::string, torch::Tensor>& a,
                          const std::map<std::string, torch::Tensor>& b) {
  EXPECT_EQ(a.size(), b.size());
  double worst = 0;
  for (const auto& [name, t] : a) {
    auto it = b.find(name);
    if (it == b.end()) {
      ADD_FAILURE() << "parameter " << name << " is missing";
      continue;
    }
    worst = std::max(worst, (t - it->second).abs().max().item<double>());
  }
  return worst;
}

// The training loss of every logged step.
std::vector<double> step_losses(const std::string& run) {
  std::vector<double> out;
  std::istringstream in(read_file(run + "/metrics.jsonl"));
  for (std::string line; std::getline(in, line);) {
    auto j = nlohmann::json::parse(line);
    if (j["event"] == "step") out.push_back(j["loss"].get<double>());
  }
  return out;
}

void expect_same_run(const std::string& alone, const std::string& together, int64_t steps) {
  const auto rank0 = parameters_of(together, checkpoint_path(together));
  const auto rank1 = parameters_of(together, checkpoint_path(worker_dir(together, 1)));
  EXPECT_EQ(largest_difference(rank0, rank1), 0.0) << "the workers' parameters differ after " << steps << " steps";
  // And at the checkpoint before (the end of an epoch, or the step-0 one).
  EXPECT_EQ(largest_difference(parameters_of(together, previous_checkpoint_path(together)),
                               parameters_of(together, previous_checkpoint_path(worker_dir(together, 1)))),
            0.0)
      << "the workers' previous checkpoints differ";
  // Float sums over two halves of a batch instead of one: rounding only.
  EXPECT_LT(largest_difference(parameters_of(alone, checkpoint_path(alone)), rank0), 2e-5)
      << "two workers did not follow one process after " << steps << " steps";
  const auto a = step_losses(alone), b = step_losses(together);
  ASSERT_EQ(a.size(), static_cast<size_t>(steps));
  ASSERT_EQ(b.size(), a.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], 1e-4 * std::abs(a[i])) << "step " << i + 1;
}

TEST(Distributed, TwoWorkersEndWhereOneProcessEndsOnTheSameGlobalBatches) {
  TempDir tmp;
  const std::string alone = tmp / "alone", together = tmp / "together";
  // 30 steps cross the end of the first epoch (27 batches, the last of 39 rows).
  auto r = run_cli(fvsbn_args(alone) + " --steps 30");
  ASSERT_EQ(r.status, 0) << r.err;
  r = run_cli(fvsbn_args(together) + " --steps 30 --nproc 2");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.err.find("data-parallel: 2 workers"), std::string::npos) << r.err;
  EXPECT_FALSE(file_exists(worker_dir(together, 1) + "/metrics.jsonl")) << "only rank 0 logs";
  expect_same_run(alone, together, 30);
  // Resumed, by as many workers: still the same run.
  r = run_cli("train --resume --out " + alone + " --steps 45 --threads 1");
  ASSERT_EQ(r.status, 0) << r.err;
  r = run_cli("train --resume --out " + together + " --steps 45 --threads 1 --nproc 2");
  ASSERT_EQ(r.status, 0) << r.err;
  expect_same_run(alone, together, 45);
  // Evaluation is single-process, unchanged.
  r = run_cli("eval " + together + " --metrics nll --threads 1");
  EXPECT_EQ(r.status, 0) << r.err;
}

TEST(Distributed, AResumeWithAnotherNumberOfWorkersSaysWhy) {
  TempDir tmp;
  const std::string together = tmp / "together", alone = tmp / "alone";
  ASSERT_EQ(run_cli(fvsbn_args(together) + " --steps 3 --nproc 2").status, 0);
  const std::string before = read_file(checkpoint_path(together));
  auto r = run_cli("train --resume --out " + together + " --steps 6 --threads 1");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("trained by 2 workers"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--nproc 2"), std::string::npos) << r.err;
  r = run_cli("train --resume --out " + together + " --steps 6 --threads 1 --nproc 3");
  EXPECT_EQ(r.status, 2) << r.err;
  EXPECT_NE(r.err.find("trained by 2 workers"), std::string::npos) << r.err;
  EXPECT_EQ(read_file(checkpoint_path(together)), before) << "a refused resume changed the checkpoint";
  ASSERT_EQ(run_cli(fvsbn_args(alone) + " --steps 3").status, 0);
  r = run_cli("train --resume --out " + alone + " --steps 6 --threads 1 --nproc 2");
  EXPECT_EQ(r.status, 2) << r.err;
  EXPECT_NE(r.err.find("trained by 1 process"), std::string::npos) << r.err;
}

// Each worker's rows of every batch of epoch 0, for `world` workers.
std::vector<std::vector<int64_t>> rows_per_worker(int64_t n, int64_t batch, int64_t world, int64_t* batches = nullptr) {
  TrainData data;
  data.train = torch::arange(n, torch::kFloat32).view({n, 1});
  std::vector<std::vector<int64_t>> out(static_cast<size_t>(world));
  for (int64_t r = 0; r < world; ++r) {
    TrainerState state;
    EpochBatches source(data, batch, /*seed=*/7, state, r, world);
    if (batches) *batches = source.per_epoch();
    for (int64_t b = 0; b < source.per_epoch(); ++b) {
      auto x = source.next();
      EXPECT_GT(x.size(0), 0) << "worker " << r << " got no rows of batch " << b;
      for (int64_t i = 0; i < x.size(0); ++i) out[static_cast<size_t>(r)].push_back(x[i][0].item<int64_t>());
    }
    EXPECT_EQ(state.epoch, 0);
    EXPECT_EQ(source.examples(), n) << "the examples counted are the global batch's";
  }
  return out;
}

TEST(Distributed, AcrossWorkersEveryExampleOfAnEpochIsUsedExactlyOnce) {
  // Even and uneven splits. Every share has at least 8 rows: a last batch
  // with fewer than 8 per worker (103 = 5 x 20 + 3 for 2 workers; 130 =
  // 6 x 20 + 10 for 2) joins the batch before it; 140 = 4 x 30 + 20 and
  // 1000 = 15 x 64 + 40 for 5 keep theirs; 50 rows are one batch of 100.
  struct Case {
    int64_t n, batch, world, batches;
  };
  for (const Case& c : {Case{100, 20, 2, 5}, Case{103, 20, 2, 5}, Case{130, 20, 2, 6}, Case{140, 30, 2, 5},
                        Case{50, 100, 3, 1}, Case{1000, 64, 5, 16}, Case{103, 20, 1, 6}}) {
    SCOPED_TRACE("n " + std::to_string(c.n) + ", batch " + std::to_string(c.batch) + ", " + std::to_string(c.world) +
                 " workers");
    int64_t batches = 0;
    const auto rows = rows_per_worker(c.n, c.batch, c.world, &batches);
    std::vector<int> seen(static_cast<size_t>(c.n), 0);
    for (const auto& mine : rows)
      for (int64_t i : mine) seen[static_cast<size_t>(i)]++;
    for (int64_t i = 0; i < c.n; ++i) EXPECT_EQ(seen[static_cast<size_t>(i)], 1) << "example " << i;
    EXPECT_EQ(batches, c.batches);
  }
  // The workers' shares of a batch are, in rank order, one process's batch.
  const auto alone = rows_per_worker(140, 30, 1)[0];
  const auto two = rows_per_worker(140, 30, 2);
  std::vector<int64_t> joined;
  for (size_t at0 = 0, at1 = 0; at0 < two[0].size();) {
    const size_t batch_rows = std::min<size_t>(30, alone.size() - joined.size());
    const size_t first = batch_rows / 2;
    joined.insert(joined.end(), two[0].begin() + static_cast<long>(at0), two[0].begin() + static_cast<long>(at0 + first));
    joined.insert(joined.end(), two[1].begin() + static_cast<long>(at1),
                  two[1].begin() + static_cast<long>(at1 + batch_rows - first));
    at0 += first;
    at1 += batch_rows - first;
  }
  EXPECT_EQ(joined, alone);
  // A global batch needs a row per worker.
  TrainData data;
  data.train = torch::zeros({50, 1});
  TrainerState state;
  try {
    EpochBatches source(data, 20, 0, state, 0, 3);
    ADD_FAILURE() << "a global batch of 20 for 3 workers was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("global batch"), std::string::npos) << e.what();
  }
}

// A port on 127.0.0.1 that nothing listens on.
int unused_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

std::vector<std::string> worker_env(int rank, int port) {
  return {"RANK=" + std::to_string(rank), "WORLD_SIZE=2", "LOCAL_RANK=" + std::to_string(rank),
          "LOCAL_WORLD_SIZE=2", "MASTER_ADDR=127.0.0.1", "MASTER_PORT=" + std::to_string(port)};
}

// Waits for `pid` at most `seconds`; its exit status, 128 + signal, or -1
// when it is still running (then killed).
int wait_at_most(pid_t pid, double seconds) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < end) {
    int raw = 0;
    const pid_t got = waitpid(pid, &raw, WNOHANG);
    if (got == pid) return WIFEXITED(raw) ? WEXITSTATUS(raw) : 128 + WTERMSIG(raw);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
  return -1;
}

// Waits until `path` exists (at most 120 s).
bool appears(const std::string& path) {
  for (int i = 0; i < 2400; ++i) {
    if (file_exists(path)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

// Two workers started as torchrun starts them; rank 1 is stopped with
// `signal` once both have passed their first epoch; rank 0 must leave within
// the timeout, naming rank 1, and the run keeps a loadable checkpoint.
void lose_rank_one(int signal) {
  TempDir tmp;
  const std::string run = tmp / "run";
  const int port = unused_port();
  const std::string args = fvsbn_args(run) + " --steps 100000000 --dist-timeout 5";
  const pid_t rank0 = spawn_cli(args, worker_env(0, port), tmp / "rank0.log");
  const pid_t rank1 = spawn_cli(args, worker_env(1, port), tmp / "rank1.log");
  // The first epoch's end writes rank 0's best.pt (and a checkpoint each).
  const bool started = appears(run + "/samples/epoch_0001.png");
  kill(rank1, signal);
  const auto stopped = std::chrono::steady_clock::now();
  const int status = wait_at_most(rank0, 60);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - stopped).count();
  kill(rank1, SIGKILL);
  waitpid(rank1, nullptr, 0);
  ASSERT_TRUE(started) << read_file(tmp / "rank0.log");
  const std::string log = read_file(tmp / "rank0.log");
  EXPECT_EQ(status, 4) << log;
  EXPECT_NE(log.find("rank 1 died or stopped responding"), std::string::npos) << log;
  // A dead peer is noticed at once; a hung one after the 5 s timeout (and a
  // moment to see who is still there).
  EXPECT_LT(seconds, signal == SIGKILL ? 5.0 : 15.0);
  Run r = open_run(run, "last");
  EXPECT_GT(r.state.global_step, 0);
}

TEST(Distributed, AWorkerKilledMakesTheOtherStopNamingItsRank) { lose_rank_one(SIGKILL); }

TEST(Distributed, AHungWorkerMakesTheOtherStopAfterTheTimeout) { lose_rank_one(SIGSTOP); }

// The launcher's workers once both have passed their first epoch, rank 0
// first.
std::vector<pid_t> launched_workers(pid_t launcher, const std::string& run, const std::string& log) {
  EXPECT_TRUE(appears(run + "/samples/epoch_0001.png")) << read_file(log);
  std::istringstream children(
      read_file("/proc/" + std::to_string(launcher) + "/task/" + std::to_string(launcher) + "/children"));
  std::vector<pid_t> workers;
  for (pid_t pid; children >> pid;) workers.push_back(pid);
  std::sort(workers.begin(), workers.end());  // forked in rank order
  return workers;
}

// `genzoo train --nproc 2`, its rank 1 stopped with `signal` after the first
// epoch: the launcher exits 4 naming it with `named`, rank 0 names it too.
void launcher_loses_rank_one(int signal, const std::string& named) {
  TempDir tmp;
  const std::string run = tmp / "run";
  const pid_t launcher =
      spawn_cli(fvsbn_args(run) + " --steps 100000000 --dist-timeout 3 --nproc 2", {"MASTER_PORT="}, tmp / "log");
  const auto workers = launched_workers(launcher, run, tmp / "log");
  ASSERT_EQ(workers.size(), 2u);
  kill(workers[1], signal);
  const int status = wait_at_most(launcher, 60);
  const std::string log = read_file(tmp / "log");
  EXPECT_EQ(status, 4) << log;
  EXPECT_NE(log.find(named), std::string::npos) << log;
  EXPECT_NE(log.find("rank 0: rank 1 died or stopped responding"), std::string::npos) << log;
}

TEST(Distributed, TheLauncherNamesTheWorkerThatHung) {
  launcher_loses_rank_one(SIGSTOP, "worker rank 1 stopped responding and was killed");
}

TEST(Distributed, TheLauncherNamesTheWorkerThatDied) {
  launcher_loses_rank_one(SIGKILL, "worker rank 1 was killed by signal 9");
}

TEST(Distributed, MidEpochCheckpointsAndDivergencesAreDecidedAlikeByAllWorkers) {
  TempDir tmp;
  // A checkpoint after every step (rank 0's clock says when, for both): the
  // run still follows one process saving as often.
  const std::string alone = tmp / "alone", together = tmp / "together";
  const std::string often = " --steps 30 --set train.checkpoint_seconds=0.000001";
  auto r = run_cli(fvsbn_args(alone) + often);
  ASSERT_EQ(r.status, 0) << r.err;
  r = run_cli(fvsbn_args(together) + often + " --nproc 2 --dist-timeout 20");
  ASSERT_EQ(r.status, 0) << r.err;
  expect_same_run(alone, together, 30);
  // A bound every step's loss is beyond: each worker rolls back once, then
  // both stop as diverged (status 3), neither waiting for the other.
  r = run_cli(fvsbn_args(tmp / "diverged") +
              " --steps 30 --nproc 2 --dist-timeout 20 --set train.diverge_above=1 --set train.rollbacks=1");
  EXPECT_EQ(r.status, 3) << r.err;
  EXPECT_NE(r.err.find("rollback 1 of 1"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("worker rank 0 exited with status 3"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("died or stopped responding"), std::string::npos) << r.err;
}

TEST(Distributed, APortInUseOrAnUnreachableMasterIsOneLineAndStatusTwo) {
  TempDir tmp;
  // Something else listens on the port rank 0 would host the store on.
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(listen(fd, 1), 0);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  const int busy = ntohs(addr.sin_port);
  pid_t pid = spawn_cli(fvsbn_args(tmp / "a") + " --steps 1 --dist-timeout 3", worker_env(0, busy), tmp / "a.log");
  int status = wait_at_most(pid, 30);
  close(fd);
  std::string log = read_file(tmp / "a.log");
  EXPECT_EQ(status, 2) << log;
  EXPECT_EQ(std::count(log.begin(), log.end(), '\n'), 1) << log;
  EXPECT_NE(log.find("cannot host the rendezvous at 127.0.0.1:" + std::to_string(busy)), std::string::npos) << log;
  EXPECT_NE(log.find("MASTER_PORT"), std::string::npos) << log;
  // No rank 0 anywhere: rank 1 gives up after the timeout.
  pid = spawn_cli(fvsbn_args(tmp / "b") + " --steps 1 --dist-timeout 2", worker_env(1, unused_port()), tmp / "b.log");
  status = wait_at_most(pid, 30);
  log = read_file(tmp / "b.log");
  EXPECT_EQ(status, 2) << log;
  EXPECT_NE(log.find("rank 1 cannot reach the master at 127.0.0.1:"), std::string::npos) << log;
  EXPECT_EQ(std::count(log.begin(), log.end(), '\n'), 1) << log;
}

TEST(Distributed, AGanStepAndAnEbmStepRunOnTwoWorkers) {
  TempDir tmp;
  struct Case {
    std::string model, data, extra;
  };
  for (const auto& c : {Case{"dcgan", "fashion-mnist", "--set train.batch_size=16"},
                        Case{"igebm", "fashion-mnist",
                             "--set train.batch_size=16 --set objective.langevin_steps=3 --set model.filters=8"}}) {
    SCOPED_TRACE(c.model);
    const std::string run = tmp / c.model;
    auto r = run_cli("train " + c.model + " --data " + c.data + " --out " + run + " --steps 3 --threads 1 --nproc 2 " +
                     c.extra + " --set train.validation=0 --set train.patience=0 --set train.sample_count=4");
    ASSERT_EQ(r.status, 0) << r.err;
    const auto rank0 = parameters_of(run, checkpoint_path(run));
    const auto rank1 = parameters_of(run, checkpoint_path(worker_dir(run, 1)));
    EXPECT_EQ(largest_difference(rank0, rank1), 0.0);
    EXPECT_EQ(open_run(run, "last").state.global_step, 3);
  }
}

TEST(Distributed, AKillBetweenTheWorkersCheckpointsIsResumedFromTheCommonStep) {
  TempDir tmp;
  const std::string whole = tmp / "whole", cut = tmp / "cut";
  ASSERT_EQ(run_cli(fvsbn_args(whole) + " --steps 40 --nproc 2").status, 0);
  // Rank 1 dies writing its second checkpoint (the end of epoch 1, step 27):
  // rank 0 has written its own, so it is a checkpoint ahead.
  const int port = unused_port();
  const std::string args = fvsbn_args(cut) + " --steps 40 --dist-timeout 20";
  auto env1 = worker_env(1, port);
  env1.push_back("GENZOO_CRASH_AT=checkpoint.tmp_written#2");
  const pid_t rank0 = spawn_cli(args, worker_env(0, port), tmp / "rank0.log");
  const pid_t rank1 = spawn_cli(args, env1, tmp / "rank1.log");
  EXPECT_EQ(wait_at_most(rank1, 60), 128 + SIGKILL) << read_file(tmp / "rank1.log");
  EXPECT_EQ(wait_at_most(rank0, 60), 4) << read_file(tmp / "rank0.log");
  genzoo::Run r0 = open_run(cut, "last");
  EXPECT_EQ(r0.state.global_step, 27);
  EXPECT_EQ(load_checkpoint(checkpoint_path(worker_dir(cut, 1)), *r0.model, nullptr).global_step, 0);
  auto r = run_cli("train --resume --out " + cut + " --steps 40 --threads 1 --nproc 2");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.err.find("checkpoints were at steps 0 to 27: all continue from step 0"), std::string::npos) << r.err;
  EXPECT_EQ(largest_difference(parameters_of(whole, checkpoint_path(whole)), parameters_of(cut, checkpoint_path(cut))),
            0.0);
  EXPECT_EQ(step_losses(whole), step_losses(cut));
}

TEST(Distributed, WorkersShareTheStoreOfTorchrunsAgent) {
  // torchrun (static rendezvous) hosts the store on MASTER_PORT itself and
  // says so with TORCHELASTIC_USE_AGENT_STORE=True: every worker connects.
  c10d::TCPStoreOptions options;
  options.port = 0;
  options.isServer = true;
  options.waitWorkers = false;
  auto agent = c10::make_intrusive<c10d::TCPStore>("127.0.0.1", options);
  TempDir tmp;
  const std::string run = tmp / "run";
  const std::string args = fvsbn_args(run) + " --steps 3 --dist-timeout 20";
  std::vector<pid_t> workers;
  for (int r = 0; r < 2; ++r) {
    auto env = worker_env(r, agent->getPort());
    env.push_back("TORCHELASTIC_USE_AGENT_STORE=True");
    env.push_back("TORCHELASTIC_RESTART_COUNT=0");
    workers.push_back(spawn_cli(args, env, tmp / ("rank" + std::to_string(r) + ".log")));
  }
  EXPECT_EQ(wait_at_most(workers[0], 60), 0) << read_file(tmp / "rank0.log");
  EXPECT_EQ(wait_at_most(workers[1], 60), 0) << read_file(tmp / "rank1.log");
  EXPECT_EQ(open_run(run, "last").state.global_step, 3);
}

TEST(Distributed, DeviceCudaSaysInOneLineThatGenzooTrainsOnTheCpu) {
  TempDir tmp;
  auto r = run_cli(fvsbn_args(tmp / "run") + " --steps 1 --device cuda");
  EXPECT_EQ(r.status, 2) << r.err;
  EXPECT_NE(r.err.find("CPU only"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_FALSE(file_exists(tmp / "run")) << "a refused run wrote its folder";
}

// Sets environment variables for a scope and restores them.
class ScopedEnv {
 public:
  explicit ScopedEnv(const std::map<std::string, std::string>& vars) {
    for (const char* name : {"RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT",
                             "SLURM_PROCID", "SLURM_NTASKS", "SLURM_LOCALID", "SLURM_NTASKS_PER_NODE",
                             "SLURM_STEP_NUM_TASKS", "SLURM_STEP_TASKS_PER_NODE", "TORCHELASTIC_USE_AGENT_STORE"}) {
      if (const char* v = std::getenv(name)) saved_[name] = v;
      unsetenv(name);
    }
    for (const auto& [k, v] : vars) setenv(k.c_str(), v.c_str(), 1);
    set_ = vars;
  }
  ~ScopedEnv() {
    for (const auto& kv : set_) unsetenv(kv.first.c_str());
    for (const auto& [k, v] : saved_) setenv(k.c_str(), v.c_str(), 1);
  }

 private:
  std::map<std::string, std::string> saved_, set_;
};

TEST(Distributed, TheWorkerEnvironmentIsReadAsTorchrunAndSlurmSetIt) {
  {
    ScopedEnv none({});
    const auto e = WorkerEnv::from_environment();
    EXPECT_FALSE(e.distributed());
    EXPECT_EQ(e.launcher, "none");
  }
  {
    ScopedEnv torchrun({{"RANK", "3"}, {"WORLD_SIZE", "4"}, {"LOCAL_RANK", "1"}, {"LOCAL_WORLD_SIZE", "2"},
                        {"MASTER_ADDR", "10.0.0.1"}, {"MASTER_PORT", "1234"}});
    const auto e = WorkerEnv::from_environment();
    EXPECT_EQ(e.launcher, "torchrun");
    EXPECT_EQ(e.rank, 3);
    EXPECT_EQ(e.world, 4);
    EXPECT_EQ(e.local_rank, 1);
    EXPECT_EQ(e.local_world, 2);
    EXPECT_EQ(e.master_addr, "10.0.0.1");
    EXPECT_EQ(e.port, 1234);
  }
  {
    ScopedEnv slurm({{"SLURM_PROCID", "5"}, {"SLURM_NTASKS", "8"}, {"SLURM_STEP_NUM_TASKS", "8"},
                     {"SLURM_LOCALID", "1"}, {"SLURM_STEP_TASKS_PER_NODE", "4(x2)"}, {"MASTER_ADDR", "node1"}});
    const auto e = WorkerEnv::from_environment();
    EXPECT_EQ(e.launcher, "slurm");
    EXPECT_EQ(e.rank, 5);
    EXPECT_EQ(e.world, 8);
    EXPECT_EQ(e.local_rank, 1);
    EXPECT_EQ(e.local_world, 4);
    EXPECT_EQ(e.port, 29500);
  }
  {
    // A batch script of 4 tasks running genzoo itself, outside srun; and a
    // one-task step: one process each, whatever the node's task count.
    ScopedEnv batch({{"SLURM_PROCID", "0"}, {"SLURM_NTASKS", "4"}, {"SLURM_NTASKS_PER_NODE", "4"}});
    EXPECT_FALSE(WorkerEnv::from_environment().distributed());
  }
  {
    ScopedEnv one({{"SLURM_PROCID", "0"}, {"SLURM_NTASKS", "4"}, {"SLURM_STEP_NUM_TASKS", "1"},
                   {"SLURM_NTASKS_PER_NODE", "4"}});
    EXPECT_FALSE(WorkerEnv::from_environment().distributed());
  }
  // Variables that cannot be a job: one line naming the variable.
  for (const auto& [vars, named] : std::vector<std::pair<std::map<std::string, std::string>, std::string>>{
           {{{"RANK", "2"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "h"}}, "RANK"},
           {{{"RANK", "0"}, {"WORLD_SIZE", "two"}, {"MASTER_ADDR", "h"}}, "WORLD_SIZE"},
           {{{"RANK", "0"}}, "WORLD_SIZE"},
           {{{"RANK", "0"}, {"WORLD_SIZE", "2"}}, "MASTER_ADDR"},
           {{{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "h"}, {"MASTER_PORT", "70000"}}, "MASTER_PORT"}}) {
    ScopedEnv bad(vars);
    try {
      WorkerEnv::from_environment();
      ADD_FAILURE() << "accepted a job without a valid " << named;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(named), std::string::npos) << e.what();
    }
  }
}

}  // namespace
}  // namespace genzoo
