#pragma once
// Small file helpers shared by every layer that writes results: a write goes to
// a temporary file in the same folder and is renamed into place, so a crash or
// a full disk never leaves a half-written checkpoint, config or report.
#include <cstdint>
#include <string>

namespace genzoo {

/// Whole file as bytes; genzoo::Error naming the path if it cannot be read.
std::string read_file(const std::string& path);

/// Writes `bytes` to `path` (not atomically: the writers below build on it).
/// On failure -- no space left, a read-only folder -- removes what it wrote
/// and throws genzoo::Error naming the file and the reason.
void write_file(const std::string& path, const std::string& bytes);

/// Writes `bytes` to `path` atomically (temporary file + rename).
void write_file_atomic(const std::string& path, const std::string& bytes);

/// Creates `dir` and its parents; genzoo::Error if that fails.
void ensure_dir(const std::string& dir);

bool file_exists(const std::string& path);

/// Whether `s` ends with `suffix` (a file name with its extension).
bool ends_with(const std::string& s, const std::string& suffix);

/// Appends `line` and a newline to `path` (created if absent) in one
/// write(2) on a file opened O_APPEND, so a process killed at any moment
/// leaves either the whole line or none of it; genzoo::Error on failure
/// (a full disk included), with the file as it was before.
void append_line(const std::string& path, const std::string& line);

/// Size in bytes; -1 when the file does not exist.
int64_t file_size(const std::string& path);

/// Cuts `path` to its first `bytes` bytes; genzoo::Error on failure.
void truncate_file(const std::string& path, int64_t bytes);

}  // namespace genzoo
