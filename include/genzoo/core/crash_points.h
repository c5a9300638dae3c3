#pragma once
// Crash points: named places in genzoo's writers where a test can make the
// process die by SIGKILL, to prove that a run killed at exactly that moment
// (half-way through a checkpoint, a sample grid, best.pt or a metrics line)
// loses nothing before its last checkpoint and resumes exactly.
//
// GENZOO_CRASH_AT="NAME" kills the process the first time it reaches the
// point NAME; "NAME#K" the K-th time (1-based). Unset (always, outside the
// reliability tests), a crash point costs one cached comparison.
//
// Points:
//   checkpoint.tmp_written   checkpoint.pt.tmp complete, not yet renamed
//   checkpoint.prev_linked   checkpoint.prev.pt linked, checkpoint.pt not yet replaced
//   best.tmp_written         best.pt.tmp complete, not yet renamed
//   file.tmp_written         any other atomic write (sample grids, eval.json,
//                            config.toml) complete in its .tmp, not yet renamed
//   metrics.half_line        half of a metrics.jsonl line written (a torn
//                            line, as a power cut could leave)
namespace genzoo {

/// True when GENZOO_CRASH_AT names this arrival at `name`. Counts arrivals.
bool crash_point_armed(const char* name);

/// Dies by SIGKILL when GENZOO_CRASH_AT names this arrival at `name`.
void crash_point(const char* name);

}  // namespace genzoo
