// genzoo train ... --nproc N: N local workers of the same command, started
// the way torchrun starts them (RANK, WORLD_SIZE, LOCAL_RANK,
// LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT in their environment).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "commands.h"
#include "genzoo/core/error.h"

extern char** environ;

namespace genzoo::cli {

namespace {

std::vector<std::string>& saved_command_line() {
  static std::vector<std::string> args;
  return args;
}

// The workers, for the signal handler that passes SIGINT/SIGTERM on.
pid_t g_workers[256];
volatile sig_atomic_t g_worker_count = 0;

void forward_signal(int sig) {
  for (sig_atomic_t i = 0; i < g_worker_count; ++i)
    if (g_workers[i] > 0) kill(g_workers[i], sig);
}

// A port nobody listens on now (the kernel's choice); rank 0 binds it a
// moment later.
int free_local_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw Error(std::string("cannot open a socket to find a free port: ") + std::strerror(errno));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    close(fd);
    throw Error(std::string("cannot find a free local port: ") + std::strerror(errno));
  }
  close(fd);
  return ntohs(addr.sin_port);
}

std::string describe_status(int status) {
  if (WIFSIGNALED(status))
    return std::string("was killed by signal ") + std::to_string(WTERMSIG(status)) + " (" + strsignal(WTERMSIG(status)) +
           ")";
  return "exited with status " + std::to_string(WEXITSTATUS(status));
}

}  // namespace

void set_command_line(int argc, char** argv) { saved_command_line().assign(argv, argv + argc); }

int launch_local_workers(int nproc, double timeout_seconds) {
  const auto& args = saved_command_line();
  if (args.empty()) throw Error("--nproc: the command line was not recorded");
  if (nproc > 256) throw Error("--nproc: at most 256 workers on one machine");
  const char* given_port = std::getenv("MASTER_PORT");
  const std::string port = given_port && *given_port ? given_port : std::to_string(free_local_port());
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  // Each worker's environment, built before any fork: the child only execs.
  const char* const ours[] = {"RANK=", "LOCAL_RANK=", "WORLD_SIZE=", "LOCAL_WORLD_SIZE=", "MASTER_ADDR=",
                              "MASTER_PORT=", "GENZOO_NPROC_LAUNCHED="};
  std::vector<std::vector<std::string>> envs(static_cast<size_t>(nproc));
  std::vector<std::vector<char*>> envps(static_cast<size_t>(nproc));
  for (int r = 0; r < nproc; ++r) {
    auto& e = envs[static_cast<size_t>(r)];
    for (char** v = environ; *v; ++v) {
      bool replaced = false;
      for (const char* name : ours) replaced = replaced || std::strncmp(*v, name, std::strlen(name)) == 0;
      if (!replaced) e.emplace_back(*v);
    }
    for (const std::string& v :
         {"RANK=" + std::to_string(r), "LOCAL_RANK=" + std::to_string(r), "WORLD_SIZE=" + std::to_string(nproc),
          "LOCAL_WORLD_SIZE=" + std::to_string(nproc), std::string("MASTER_ADDR=127.0.0.1"), "MASTER_PORT=" + port,
          std::string("GENZOO_NPROC_LAUNCHED=1")})
      e.push_back(v);
    for (auto& v : e) envps[static_cast<size_t>(r)].push_back(v.data());
    envps[static_cast<size_t>(r)].push_back(nullptr);
  }
  std::fflush(nullptr);
  struct sigaction forward {};
  forward.sa_handler = forward_signal;
  sigemptyset(&forward.sa_mask);
  sigaction(SIGINT, &forward, nullptr);
  sigaction(SIGTERM, &forward, nullptr);
  std::vector<pid_t> pids;
  const pid_t launcher = getpid();
  for (int r = 0; r < nproc; ++r) {
    const pid_t pid = fork();
    if (pid < 0) {
      forward_signal(SIGTERM);  // the workers already started
      throw Error(std::string("--nproc: cannot start a worker: ") + std::strerror(errno));
    }
    if (pid == 0) {
      prctl(PR_SET_PDEATHSIG, SIGTERM);  // a launcher that dies takes its workers along
      if (getppid() != launcher) _exit(127);
      execve("/proc/self/exe", argv.data(), envps[static_cast<size_t>(r)].data());
      _exit(127);
    }
    pids.push_back(pid);
    g_workers[r] = pid;
    g_worker_count = r + 1;
  }
  // Wait for every worker. A dead worker makes the others stop at once and
  // a hung one after the timeout; whoever is still running 10 s after the
  // first failure is stopped (it hangs) and named.
  std::vector<int> status(static_cast<size_t>(nproc), 0);
  std::vector<bool> done(static_cast<size_t>(nproc), false), stopped_by_us(static_cast<size_t>(nproc), false);
  int running = nproc;
  auto failed_at = std::chrono::steady_clock::time_point{};
  bool failed = false;
  while (running > 0) {
    int raw = 0;
    const pid_t pid = waitpid(-1, &raw, WNOHANG);
    if (pid == 0) {
      if (failed && std::chrono::steady_clock::now() - failed_at > std::chrono::seconds(10))
        for (int r = 0; r < nproc; ++r)
          if (!done[static_cast<size_t>(r)] && !stopped_by_us[static_cast<size_t>(r)]) {
            kill(pids[static_cast<size_t>(r)], SIGKILL);
            stopped_by_us[static_cast<size_t>(r)] = true;
          }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      continue;
    }
    if (pid < 0) {
      if (errno == EINTR) continue;
      break;
    }
    int rank = 0;
    while (rank < nproc && pids[static_cast<size_t>(rank)] != pid) ++rank;
    if (rank == nproc) continue;
    done[static_cast<size_t>(rank)] = true;
    status[static_cast<size_t>(rank)] = raw;
    --running;
    if (!(WIFEXITED(raw) && WEXITSTATUS(raw) == 0) && !failed) {
      failed = true;
      failed_at = std::chrono::steady_clock::now();
    }
  }
  g_worker_count = 0;
  if (!failed) return 0;
  // The cause, not its echo: a worker that died or failed on its own comes
  // before one stopped here for hanging, which comes before those that only
  // lost a peer (status 4).
  int cause = -1;
  for (int pass = 0; pass < 3 && cause < 0; ++pass)
    for (int r = 0; r < nproc && cause < 0; ++r) {
      const int raw = status[static_cast<size_t>(r)];
      const bool ok = WIFEXITED(raw) && WEXITSTATUS(raw) == 0;
      const bool lost_peer = WIFEXITED(raw) && WEXITSTATUS(raw) == kExitWorkerLost;
      const bool ours_killed = stopped_by_us[static_cast<size_t>(r)];
      if (!ok && ((pass == 0 && !lost_peer && !ours_killed) || (pass == 1 && ours_killed) || pass == 2)) cause = r;
    }
  const int raw = status[static_cast<size_t>(cause)];
  if (stopped_by_us[static_cast<size_t>(cause)])
    std::fprintf(stderr, "genzoo: worker rank %d stopped responding and was killed\n", cause);
  else
    std::fprintf(stderr, "genzoo: worker rank %d %s\n", cause, describe_status(raw).c_str());
  return WIFEXITED(raw) && !stopped_by_us[static_cast<size_t>(cause)] ? WEXITSTATUS(raw) : kExitWorkerLost;
}

}  // namespace genzoo::cli
