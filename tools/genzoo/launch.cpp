// genzoo train ... --nproc N: N local workers of the same command, started
// the way torchrun starts them (RANK, WORLD_SIZE, LOCAL_RANK,
// LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT in their environment).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
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

namespace genzoo::cli {

namespace {

std::vector<std::string>& saved_command_line() {
  static std::vector<std::string> args;
  return args;
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
  if (WIFSIGNALED(status)) return std::string("was killed by signal ") + std::to_string(WTERMSIG(status)) +
                                  " (" + strsignal(WTERMSIG(status)) + ")";
  return "exited with status " + std::to_string(WEXITSTATUS(status));
}

}  // namespace

void set_command_line(int argc, char** argv) {
  saved_command_line().assign(argv, argv + argc);
}

int launch_local_workers(int nproc, double timeout_seconds) {
  const auto& args = saved_command_line();
  if (args.empty()) throw Error("--nproc: the command line was not recorded");
  const char* given_port = std::getenv("MASTER_PORT");
  const std::string port = given_port && *given_port ? given_port : std::to_string(free_local_port());
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::fflush(nullptr);
  std::vector<pid_t> pids;
  for (int r = 0; r < nproc; ++r) {
    const pid_t pid = fork();
    if (pid < 0) throw Error(std::string("--nproc: cannot start a worker: ") + std::strerror(errno));
    if (pid == 0) {
      setenv("RANK", std::to_string(r).c_str(), 1);
      setenv("LOCAL_RANK", std::to_string(r).c_str(), 1);
      setenv("WORLD_SIZE", std::to_string(nproc).c_str(), 1);
      setenv("LOCAL_WORLD_SIZE", std::to_string(nproc).c_str(), 1);
      setenv("MASTER_ADDR", "127.0.0.1", 1);
      setenv("MASTER_PORT", port.c_str(), 1);
      setenv("GENZOO_NPROC_LAUNCHED", "1", 1);
      execv("/proc/self/exe", argv.data());
      std::fprintf(stderr, "genzoo: --nproc: cannot start worker %d: %s\n", r, std::strerror(errno));
      _exit(127);
    }
    pids.push_back(pid);
  }
  // Wait for every worker. After the first failure the others stop on
  // their own once they notice (a dead peer at once, a hung one after the
  // timeout); those still running well after that are stopped.
  int result = 0, running = nproc;
  std::string first_failure;
  auto failed_at = std::chrono::steady_clock::time_point{};
  std::vector<bool> done(static_cast<size_t>(nproc), false);
  while (running > 0) {
    int status = 0;
    const pid_t pid = waitpid(-1, &status, WNOHANG);
    if (pid == 0) {
      if (!first_failure.empty() &&
          std::chrono::steady_clock::now() - failed_at > std::chrono::duration<double>(timeout_seconds + 30)) {
        for (int r = 0; r < nproc; ++r)
          if (!done[static_cast<size_t>(r)]) kill(pids[static_cast<size_t>(r)], SIGKILL);
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
    --running;
    const bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (!ok && first_failure.empty()) {
      first_failure = "worker rank " + std::to_string(rank) + " " + describe_status(status);
      failed_at = std::chrono::steady_clock::now();
      result = WIFEXITED(status) ? WEXITSTATUS(status) : kExitWorkerLost;
    }
  }
  if (!first_failure.empty()) std::fprintf(stderr, "genzoo: %s\n", first_failure.c_str());
  return result;
}

}  // namespace genzoo::cli
