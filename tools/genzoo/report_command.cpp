// genzoo report RUN... [--out FILE] [--watch [--every S]]: one
// self-contained HTML page per run folder (RUN/report.html) or per
// comparison folder of genzoo compare (DIR/report.html), charts drawn by
// the inlined Vega-Lite, images embedded; --watch rewrites the page of a
// run that is still training until it ends, and the page reloads itself.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <thread>

#include "commands.h"
#include "genzoo/core/error.h"
#include "genzoo/core/files.h"
#include "genzoo/report/comparison_report.h"
#include "genzoo/report/html.h"
#include "genzoo/report/run_report.h"

namespace genzoo::cli {

namespace {

struct ReportArgs {
  std::vector<std::string> runs;
  std::string out;
  bool watch = false;
  int every = 10, idle = 1800;
};

bool is_comparison(const std::string& dir) { return file_exists(dir + "/results.json"); }

// Writes the page of `dir` to `out`; returns whether the run has ended (a
// comparison always has). The charting library is read once, when a page
// first has charts.
bool write_report(const std::string& dir, const std::string& out, int refresh, std::string& library) {
  bool finished = true;  // a comparison has
  HtmlPage page = is_comparison(dir) ? comparison_report(dir) : run_report(dir, &finished);
  if (refresh > 0 && !finished) page.refresh_every(refresh);
  if (page.charts() > 0 && library.empty()) library = charting_library();
  write_file_atomic(out, page.render(page.charts() > 0 ? library : std::string()));
  return finished;
}

void watch(const std::string& dir, const std::string& out, const ReportArgs& a, std::string& library) {
  std::fprintf(stderr, "genzoo: rewriting %s every %d s until the run ends (Ctrl-C stops; the page stays)\n",
               out.c_str(), a.every);
  const std::string metrics = dir + "/metrics.jsonl";
  int64_t last_size = file_size(metrics);
  auto last_change = std::chrono::steady_clock::now();
  for (;;) {
    std::this_thread::sleep_for(std::chrono::seconds(a.every));
    try {
      if (write_report(dir, out, a.every, library)) break;
    } catch (const Error& e) {
      // A file caught mid-rewrite: the next round reads it whole.
      std::fprintf(stderr, "genzoo: this round failed (%s); trying again\n", e.what());
    }
    const int64_t size = file_size(metrics);
    if (size != last_size) {
      last_size = size;
      last_change = std::chrono::steady_clock::now();
    } else if (std::chrono::steady_clock::now() - last_change > std::chrono::seconds(a.idle)) {
      // Killed runs write no end line: stop waiting, with the page as it is.
      std::fprintf(stderr,
                   "genzoo: no new metrics line for %d s: stopped watching (the run may have been killed; "
                   "genzoo train --resume continues it)\n",
                   a.idle);
      write_report(dir, out, 0, library);
      return;
    }
  }
  std::fprintf(stderr, "genzoo: the run has ended; the page is final\n");
}

void run_report_command(const ReportArgs& a) {
  if (!a.out.empty() && a.runs.size() != 1) throw Error("--out names one page: give one run folder with it");
  if (a.watch && a.runs.size() != 1) throw Error("--watch follows one run: give one run folder with it");
  if (a.every < 1) throw Error("--every must be at least 1 second");
  if (a.idle < 1) throw Error("--idle must be at least 1 second");
  for (const auto& dir : a.runs) {
    std::error_code ec;
    if (!std::filesystem::is_directory(dir, ec)) throw Error("run folder '" + dir + "' does not exist");
  }
  std::string library;
  for (const auto& dir : a.runs) {
    const std::string out = a.out.empty() ? dir + "/report.html" : a.out;
    const bool finished = write_report(dir, out, a.watch ? a.every : 0, library);
    std::printf("%s\n", out.c_str());
    std::fflush(stdout);
    if (!a.watch) continue;
    if (finished) std::fprintf(stderr, "genzoo: the run has ended; the page is final\n");
    else watch(dir, out, a, library);
  }
}

}  // namespace

void add_report_command(CLI::App& app) {
  auto args = std::make_shared<ReportArgs>();
  auto* cmd = app.add_subcommand("report",
                                 "A self-contained HTML page (charts, sample grids, metrics, config) per run folder "
                                 "or genzoo compare folder; opens offline");
  cmd->add_option("RUNS", args->runs, "Run folders, or folders written by genzoo compare --out")->required();
  cmd->add_option("--out", args->out, "The page's file (default RUN/report.html; one run only)");
  cmd->add_flag("--watch", args->watch,
                "Rewrite the page while the run trains, until it ends; the open page reloads itself");
  cmd->add_option("--every", args->every, "Seconds between rewrites with --watch")->capture_default_str();
  cmd->add_option("--idle", args->idle,
                  "With --watch: stop when the run has written no metrics line for this many seconds (a killed run "
                  "writes no end)")
      ->capture_default_str();
  cmd->callback([args] { run_report_command(*args); });
}

}  // namespace genzoo::cli
