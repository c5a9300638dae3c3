#include "genzoo/core/files.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "genzoo/core/crash_points.h"
#include "genzoo/core/error.h"

namespace genzoo {

namespace fs = std::filesystem;

std::string read_file(const std::string& path) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) throw Error("'" + path + "' is a folder, not a file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("cannot read '" + path + "': no such file or not readable");
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) throw Error("cannot read '" + path + "': read error");
  return ss.str();
}

namespace {

// Writes all of `bytes` to `fd`; 0, or the errno of the write that failed
// (ENOSPC when the system wrote nothing without saying why).
int write_all(int fd, const std::string& bytes) {
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return n < 0 ? errno : ENOSPC;
    done += static_cast<size_t>(n);
  }
  return 0;
}

}  // namespace

void write_file(const std::string& path, const std::string& bytes) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw Error("cannot write '" + path + "': " + std::strerror(errno));
  int err = write_all(fd, bytes);
  if (::close(fd) != 0 && err == 0) err = errno;
  if (err != 0) {
    std::remove(path.c_str());
    throw Error("cannot write '" + path + "': " + std::strerror(err));
  }
}

void write_file_atomic(const std::string& path, const std::string& bytes) {
  const std::string tmp = path + ".tmp";
  write_file(tmp, bytes);
  crash_point("file.tmp_written");
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    std::remove(tmp.c_str());
    throw Error("cannot move '" + tmp + "' to '" + path + "': " + std::strerror(err));
  }
}

void ensure_dir(const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw Error("cannot create folder '" + dir + "': " + ec.message());
  if (!fs::is_directory(dir)) throw Error("cannot create folder '" + dir + "': a file of that name exists");
}

bool file_exists(const std::string& path) {
  std::error_code ec;
  return fs::exists(path, ec);
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

void append_line(const std::string& path, const std::string& line) {
  const std::string bytes = line + "\n";
  const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) throw Error("cannot append to '" + path + "': " + std::strerror(errno));
  const off_t before = ::lseek(fd, 0, SEEK_END);
  if (crash_point_armed("metrics.half_line")) {
    // A torn line, as only a power cut could leave one.
    if (::write(fd, bytes.data(), bytes.size() / 2) > 0) ::raise(SIGKILL);
  }
  const int err = write_all(fd, bytes);
  if (err != 0 && before >= 0) {
    // Take back a partial line; should that fail too, a resume cuts the
    // file back to its checkpoint's length anyway.
    const int cut = ::ftruncate(fd, before);
    (void)cut;
  }
  ::close(fd);
  if (err != 0) throw Error("cannot append to '" + path + "': " + std::strerror(err));
}

int64_t file_size(const std::string& path) {
  std::error_code ec;
  auto n = fs::file_size(path, ec);
  return ec ? -1 : static_cast<int64_t>(n);
}

void truncate_file(const std::string& path, int64_t bytes) {
  std::error_code ec;
  fs::resize_file(path, static_cast<uintmax_t>(bytes), ec);
  if (ec) throw Error("cannot cut '" + path + "' back to " + std::to_string(bytes) + " bytes: " + ec.message());
}

}  // namespace genzoo
