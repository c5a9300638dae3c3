#pragma once
// Small file helpers shared by every layer that writes results: a write goes to
// a temporary file in the same folder and is renamed into place, so a crash or
// a full disk never leaves a half-written checkpoint, config or report.
#include <string>

namespace genzoo {

/// Whole file as bytes; genzoo::Error naming the path if it cannot be read.
std::string read_file(const std::string& path);

/// Writes `bytes` to `path` atomically (temporary file + rename).
void write_file_atomic(const std::string& path, const std::string& bytes);

/// Creates `dir` and its parents; genzoo::Error if that fails.
void ensure_dir(const std::string& dir);

bool file_exists(const std::string& path);

}  // namespace genzoo
