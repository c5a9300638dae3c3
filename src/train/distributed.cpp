// c10d glue: rendezvous through a TCPStore, collectives through Gloo.
// The Gloo process group is only declared with USE_C10D_GLOO; this file is
// compiled on its own (CMakeLists.txt), so the macro reaches no other source.
#define USE_C10D_GLOO 1
#include "genzoo/train/distributed.h"

#include <glog/logging.h>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "genzoo/core/error.h"
#include "genzoo/core/timer.h"

namespace genzoo {

namespace {

std::unique_ptr<ProcessGroup>& installed() {
  static std::unique_ptr<ProcessGroup> group;
  return group;
}

const char* env(const char* name) {
  const char* v = std::getenv(name);
  return v && *v ? v : nullptr;
}

int64_t env_int(const char* name, int64_t min, int64_t max) {
  const char* v = env(name);
  char* end = nullptr;
  errno = 0;
  const long long x = std::strtoll(v, &end, 10);
  if (errno != 0 || end == v || *end != '\0' || x < min || x > max)
    throw Error(std::string("environment variable ") + name + " = '" + v + "' must be a whole number in [" +
                std::to_string(min) + ", " + std::to_string(max) + "]");
  return x;
}

// "4(x2),1" (SLURM_TASKS_PER_NODE) or "2": the first node's count.
int64_t slurm_tasks_per_node(const char* text) {
  char* end = nullptr;
  const long long x = std::strtoll(text, &end, 10);
  return end != text && x > 0 ? x : 1;
}

bool loopback(const std::string& host) {
  return host == "127.0.0.1" || host == "localhost" || host == "::1";
}

// c10d reports each failed bind or connect attempt through glog on stderr
// before it throws; genzoo says what went wrong in one line instead.
class QuietGlog {
 public:
  QuietGlog() : before_(FLAGS_minloglevel) { FLAGS_minloglevel = google::GLOG_FATAL; }
  ~QuietGlog() { FLAGS_minloglevel = before_; }
  QuietGlog(const QuietGlog&) = delete;
  QuietGlog& operator=(const QuietGlog&) = delete;

 private:
  int before_;
};

std::chrono::milliseconds as_ms(double seconds) {
  return std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000.0));
}

}  // namespace

WorkerEnv WorkerEnv::from_environment() {
  WorkerEnv e;
  if (env("WORLD_SIZE") || env("RANK")) {
    if (!env("WORLD_SIZE") || !env("RANK"))
      throw Error(std::string("environment variable ") + (env("RANK") ? "WORLD_SIZE" : "RANK") +
                  " is missing: a worker of a distributed run needs both RANK and WORLD_SIZE (as torchrun sets them)");
    e.launcher = env("GENZOO_NPROC_LAUNCHED") ? "genzoo --nproc" : "torchrun";
    e.world = env_int("WORLD_SIZE", 1, 65536);
    e.rank = env_int("RANK", 0, e.world - 1);
    e.local_rank = env("LOCAL_RANK") ? env_int("LOCAL_RANK", 0, e.world - 1) : e.rank;
    e.local_world = env("LOCAL_WORLD_SIZE") ? env_int("LOCAL_WORLD_SIZE", 1, e.world) : e.world;
  } else if (env("SLURM_PROCID") && env("SLURM_STEP_NUM_TASKS")) {
    // A task of an srun step (a batch script itself, outside srun, has no
    // step variables and trains alone).
    e.launcher = "slurm";
    e.world = env_int("SLURM_STEP_NUM_TASKS", 1, 65536);
    if (e.world == 1) return WorkerEnv{};
    e.rank = env_int("SLURM_PROCID", 0, e.world - 1);
    e.local_rank = env("SLURM_LOCALID") ? env_int("SLURM_LOCALID", 0, e.world - 1) : 0;
    e.local_world = env("SLURM_STEP_TASKS_PER_NODE") ? slurm_tasks_per_node(env("SLURM_STEP_TASKS_PER_NODE")) : 1;
    e.local_world = std::min(std::max(e.local_world, e.local_rank + 1), e.world);
  } else {
    return e;
  }
  if (e.world == 1) return WorkerEnv{};
  if (const char* addr = env("MASTER_ADDR"))
    e.master_addr = addr;
  else
    throw Error("environment variable MASTER_ADDR is missing: the workers of a distributed run meet at rank 0's "
                "address (MASTER_ADDR) and port (MASTER_PORT)" +
                std::string(e.launcher == "slurm" ? " (under SLURM: export MASTER_ADDR=$(scontrol show hostnames "
                                                    "$SLURM_JOB_NODELIST | head -n 1))"
                                                  : ""));
  // torchrun hosts the store itself (its agent's) and lets the workers share it.
  e.agent_store = env("TORCHELASTIC_USE_AGENT_STORE") && std::string(env("TORCHELASTIC_USE_AGENT_STORE")) == "True";
  e.restart = env("TORCHELASTIC_RESTART_COUNT") ? env_int("TORCHELASTIC_RESTART_COUNT", 0, 1 << 30) : 0;
  e.port = env("MASTER_PORT") ? static_cast<int>(env_int("MASTER_PORT", 1, 65535)) : 29500;
  return e;
}

struct ProcessGroup::Impl {
  c10::intrusive_ptr<c10d::TCPStore> tcp;
  c10::intrusive_ptr<c10d::Store> store;  // tcp, under a prefix of this attempt
  c10::intrusive_ptr<c10d::ProcessGroupGloo> gloo;
};

ProcessGroup::ProcessGroup(const WorkerEnv& env, double timeout_seconds)
    : env_(env), timeout_seconds_(timeout_seconds), impl_(std::make_unique<Impl>()) {
  if (!(timeout_seconds > 0)) throw Error("the distributed timeout must be > 0 seconds");
  c10d::TCPStoreOptions options;
  options.port = static_cast<std::uint16_t>(env.port);
  options.isServer = env.rank == 0 && !env.agent_store;
  // Every worker counts itself in and waits for all (as torch's env:// does).
  options.numWorkers = static_cast<std::size_t>(env.world);
  options.waitWorkers = true;
  options.timeout = as_ms(timeout_seconds);
  const std::string where = env.master_addr + ":" + std::to_string(env.port);
  QuietGlog quiet;
  try {
    impl_->tcp = c10::make_intrusive<c10d::TCPStore>(env.master_addr, options);
  } catch (const std::exception& e) {
    const std::string why = one_line(e.what()).substr(0, 200);
    if (options.isServer && why.find("in use") != std::string::npos)
      throw Error("rank 0 cannot host the rendezvous at " + where +
                  ": the port is in use (choose another with MASTER_PORT): " + why);
    if (options.isServer)
      throw Error("rank 0 hosted the rendezvous at " + where + " but not all " + std::to_string(env.world) +
                  " workers joined within " + std::to_string(static_cast<int>(timeout_seconds)) +
                  " s (were they all started, with the same MASTER_ADDR and MASTER_PORT?): " + why);
    throw Error("rank " + std::to_string(env.rank) + " cannot reach the master at " + where + " within " +
                std::to_string(static_cast<int>(timeout_seconds)) + " s (check MASTER_ADDR, MASTER_PORT and that rank 0 "
                "runs): " + why);
  }
  // The keys of this attempt only: torchrun's store outlives a restart.
  impl_->store = c10::make_intrusive<c10d::PrefixStore>("genzoo/attempt-" + std::to_string(env.restart), impl_->tcp);
  try {
    auto gloo_options = c10d::ProcessGroupGloo::Options::create(as_ms(timeout_seconds));
    if (const char* ifname = std::getenv("GLOO_SOCKET_IFNAME"); ifname && *ifname)
      gloo_options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(ifname));
    else if (loopback(env.master_addr))
      gloo_options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
    else
      gloo_options->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
    impl_->gloo = c10::make_intrusive<c10d::ProcessGroupGloo>(impl_->store, static_cast<int>(env.rank),
                                                              static_cast<int>(env.world), gloo_options);
  } catch (const std::exception& e) {
    throw Error("rank " + std::to_string(env.rank) + " could not connect to the other workers through Gloo: " +
                one_line(e.what()).substr(0, 200));
  }
  // Each worker says it is alive; after a failure, the ranks that did not
  // say so again are the lost ones.
  impl_->store->set("joined/" + std::to_string(env.rank), {1});
}

ProcessGroup::~ProcessGroup() = default;

void ProcessGroup::lost(const char* what, const std::string& detail) {
  // Which ranks are still here? Every survivor writes a key and waits a
  // moment for the others'; ranks without one died or hang. Without the
  // store (its host, rank 0, died) that is rank 0.
  const std::string me = std::to_string(env_.rank);
  std::string missing;
  try {
    impl_->tcp->setTimeout(std::chrono::milliseconds(2000));
    impl_->store->set("after-failure/" + me, {1});
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    for (int64_t r = 0; r < env_.world; ++r) {
      if (r == env_.rank) continue;
      if (!impl_->store->check({"after-failure/" + std::to_string(r)}))
        missing += (missing.empty() ? "" : ", ") + std::to_string(r);
    }
  } catch (const std::exception&) {
    missing = env_.rank == 0 ? "" : "0";
  }
  const std::string who = missing.empty() ? "another worker"
                          : missing.find(',') == std::string::npos ? "rank " + missing
                                                                   : "ranks " + missing;
  throw WorkerLost("rank " + me + ": " + who + " died or stopped responding (timeout " +
                   std::to_string(static_cast<int>(timeout_seconds_)) + " s) during " + what + "; stopping (" +
                   one_line(detail).substr(0, 160) + ")");
}

template <typename F>
void ProcessGroup::guarded(const char* what, F&& f) {
  const auto start = Clock::now();
  try {
    f();
  } catch (const WorkerLost&) {
    throw;
  } catch (const std::exception& e) {
    lost(what, e.what());
  }
  seconds_communicating_ += seconds_since(start);
}

namespace {

// Consecutive tensors of one dtype, flattened into buckets of at most
// kBucketBytes (a tensor larger than that is a bucket of its own).
std::vector<std::vector<size_t>> buckets(const std::vector<torch::Tensor>& tensors) {
  std::vector<std::vector<size_t>> out;
  int64_t bytes = 0;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const int64_t b = tensors[i].numel() * static_cast<int64_t>(tensors[i].element_size());
    if (out.empty() || bytes + b > kBucketBytes || tensors[out.back().front()].scalar_type() != tensors[i].scalar_type()) {
      out.emplace_back();
      bytes = 0;
    }
    out.back().push_back(i);
    bytes += b;
  }
  return out;
}

torch::Tensor flatten(const std::vector<torch::Tensor>& tensors, const std::vector<size_t>& bucket) {
  std::vector<torch::Tensor> parts;
  parts.reserve(bucket.size());
  for (size_t i : bucket) parts.push_back(tensors[i].reshape({-1}));
  return torch::cat(parts);
}

void unflatten(const torch::Tensor& flat, std::vector<torch::Tensor>& tensors, const std::vector<size_t>& bucket) {
  int64_t at = 0;
  for (size_t i : bucket) {
    const int64_t n = tensors[i].numel();
    tensors[i].copy_(flat.narrow(0, at, n).view(tensors[i].sizes()));
    at += n;
  }
}

}  // namespace

void ProcessGroup::broadcast(std::vector<torch::Tensor> tensors) {
  torch::NoGradGuard no_grad;
  for (const auto& bucket : buckets(tensors)) {
    std::vector<torch::Tensor> flat{flatten(tensors, bucket)};
    guarded("a broadcast", [&] { impl_->gloo->broadcast(flat)->wait(); });
    unflatten(flat[0], tensors, bucket);
  }
}

void ProcessGroup::all_reduce_sum(std::vector<torch::Tensor> tensors) {
  torch::NoGradGuard no_grad;
  for (const auto& bucket : buckets(tensors)) {
    std::vector<torch::Tensor> flat{flatten(tensors, bucket)};
    guarded("a gradient all-reduce", [&] { impl_->gloo->allreduce(flat)->wait(); });
    bytes_reduced_ += flat[0].numel() * static_cast<int64_t>(flat[0].element_size());
    unflatten(flat[0], tensors, bucket);
  }
}

std::string ProcessGroup::broadcast_string(const std::string& text) {
  std::vector<torch::Tensor> size{torch::tensor({static_cast<int64_t>(text.size())}, torch::kInt64)};
  guarded("a broadcast", [&] { impl_->gloo->broadcast(size)->wait(); });
  const int64_t n = size[0].item<int64_t>();
  std::vector<torch::Tensor> bytes{torch::zeros({std::max<int64_t>(n, 1)}, torch::kUInt8)};
  if (env_.rank == 0 && n > 0) std::memcpy(bytes[0].data_ptr(), text.data(), static_cast<size_t>(n));
  if (n > 0) guarded("a broadcast", [&] { impl_->gloo->broadcast(bytes)->wait(); });
  return std::string(static_cast<const char*>(bytes[0].data_ptr()), static_cast<size_t>(n));
}

std::vector<bool> ProcessGroup::agree(const std::vector<bool>& decisions) {
  auto t = torch::zeros({static_cast<int64_t>(decisions.size())}, torch::kInt32);
  for (size_t i = 0; i < decisions.size(); ++i) t[static_cast<int64_t>(i)] = decisions[i] ? 1 : 0;
  std::vector<torch::Tensor> v{t};
  guarded("a decision from rank 0", [&] { impl_->gloo->broadcast(v)->wait(); });
  std::vector<bool> out;
  auto a = v[0].accessor<int32_t, 1>();
  for (int64_t i = 0; i < a.size(0); ++i) out.push_back(a[i] != 0);
  return out;
}

void ProcessGroup::barrier() {
  guarded("a barrier", [&] { impl_->gloo->barrier()->wait(); });
}

ProcessGroup* process_group() { return installed().get(); }

void set_process_group(std::unique_ptr<ProcessGroup> group) { installed() = std::move(group); }

void average_gradients(const std::vector<torch::Tensor>& params) {
  ProcessGroup* group = process_group();
  if (!group) return;
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> trainable;
  for (const auto& p : params)
    if (p.requires_grad()) trainable.push_back(p);
  if (trainable.empty()) return;
  // Weighted gradients, zeros where a worker has none, then one flag per
  // parameter: did any worker have a gradient?
  std::vector<torch::Tensor> payload;
  auto flags = torch::zeros({static_cast<int64_t>(trainable.size())}, torch::kFloat32);
  for (size_t i = 0; i < trainable.size(); ++i) {
    const auto& g = trainable[i].grad();
    if (g.defined()) {
      payload.push_back(g * group->share());
      flags[static_cast<int64_t>(i)] = 1;
    } else {
      payload.push_back(torch::zeros_like(trainable[i]));
    }
  }
  payload.push_back(flags);
  group->all_reduce_sum(payload);
  auto had = payload.back().accessor<float, 1>();
  for (size_t i = 0; i < trainable.size(); ++i) {
    if (had[static_cast<int64_t>(i)] == 0) continue;  // no worker has one: none, as alone
    auto& p = trainable[i];
    if (p.grad().defined())
      p.mutable_grad().copy_(payload[i]);
    else
      p.mutable_grad() = payload[i];
  }
}

void average_metrics(std::vector<std::pair<std::string, double>>& metrics) {
  ProcessGroup* group = process_group();
  if (!group || metrics.empty()) return;
  // A buffer of one size on every worker, whatever its step reported, with
  // the names' count and hash beside the values: workers whose steps
  // reported different metrics are found, not averaged.
  constexpr int64_t kSlots = 64;
  TORCH_CHECK(static_cast<int64_t>(metrics.size()) <= kSlots, "a step reported more than ", kSlots, " metrics");
  uint32_t hash = 2166136261u;  // FNV-1a over the names
  for (const auto& kv : metrics)
    for (char ch : kv.first + '\n') hash = (hash ^ static_cast<unsigned char>(ch)) * 16777619u;
  auto t = torch::zeros({kSlots + 2}, torch::kFloat64);
  auto a = t.accessor<double, 1>();
  for (size_t i = 0; i < metrics.size(); ++i) a[static_cast<int64_t>(i)] = metrics[i].second * group->share();
  a[kSlots] = static_cast<double>(metrics.size());
  a[kSlots + 1] = static_cast<double>(hash);
  group->all_reduce_sum({t});
  const double world = static_cast<double>(group->world());
  if (a[kSlots] != world * static_cast<double>(metrics.size()) || a[kSlots + 1] != world * static_cast<double>(hash))
    throw std::logic_error("the workers' steps reported different metrics (this one: " +
                           std::to_string(metrics.size()) + " of them)");
  for (size_t i = 0; i < metrics.size(); ++i) metrics[i].second = a[static_cast<int64_t>(i)];
}

void broadcast_module(torch::nn::Module& module, bool buffers) {
  ProcessGroup* group = process_group();
  if (!group) return;
  std::vector<torch::Tensor> tensors;
  for (auto& p : module.parameters()) tensors.push_back(p);
  if (buffers)
    for (auto& b : module.buffers()) tensors.push_back(b);
  group->broadcast(tensors);
}

}  // namespace genzoo
