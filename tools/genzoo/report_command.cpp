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
  int every = 10;
};

bool is_comparison(const std::string& dir) { return file_exists(dir + "/results.json"); }

// Writes the page of `dir` to `out`; returns whether the run has ended (a
// comparison always has).
bool write_report(const std::string& dir, const std::string& out, int refresh, const std::string& library) {
  HtmlPage page = is_comparison(dir) ? comparison_report(dir) : run_report(dir);
  const bool finished = is_comparison(dir) || run_finished(read_metrics_lines(dir + "/metrics.jsonl"));
  if (refresh > 0 && !finished) page.refresh_every(refresh);
  write_file_atomic(out, page.render(page.charts() > 0 ? library : std::string()));
  return finished;
}

void run_report_command(const ReportArgs& a) {
  if (!a.out.empty() && a.runs.size() != 1) throw Error("--out names one page: give one run folder with it");
  if (a.watch && a.runs.size() != 1) throw Error("--watch follows one run: give one run folder with it");
  if (a.every < 1) throw Error("--every must be at least 1 second");
  for (const auto& dir : a.runs) {
    std::error_code ec;
    if (!std::filesystem::is_directory(dir, ec)) throw Error("run folder '" + dir + "' does not exist");
  }
  const std::string library = charting_library();
  for (const auto& dir : a.runs) {
    const std::string out = a.out.empty() ? dir + "/report.html" : a.out;
    bool finished = write_report(dir, out, a.watch ? a.every : 0, library);
    std::printf("%s\n", out.c_str());
    std::fflush(stdout);
    if (!a.watch) continue;
    if (finished) {
      std::fprintf(stderr, "genzoo: the run has ended; the page is final\n");
      continue;
    }
    std::fprintf(stderr, "genzoo: rewriting %s every %d s until the run ends (Ctrl-C stops; the page stays)\n",
                 out.c_str(), a.every);
    while (!finished) {
      std::this_thread::sleep_for(std::chrono::seconds(a.every));
      finished = write_report(dir, out, a.every, library);
    }
    std::fprintf(stderr, "genzoo: the run has ended; the page is final\n");
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
  cmd->callback([args] { run_report_command(*args); });
}

}  // namespace genzoo::cli
