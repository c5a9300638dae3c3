// The HTML report: its pieces (escaping, base64, the metric charts, the
// ordering of sample grids), and every kind of page opened in a real
// headless browser (Debian's chromium): no errors, every chart drawn with
// marks, every image decoded; and the same check catching a broken chart
// and a broken image, so that it can fail.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "genzoo/core/error.h"
#include "genzoo/core/files.h"
#include "genzoo/data/idx.h"
#include "genzoo/report/comparison_report.h"
#include "genzoo/report/html.h"
#include "genzoo/report/png_grid.h"
#include "genzoo/report/run_report.h"
#include "test_support.h"

namespace genzoo {
namespace {

using testing::open_in_browser;
using testing::run_cli;
using testing::TempDir;

// Screenshots of the pages the tests open, kept in the build folder.
std::string screenshot_path(const std::string& name) { return std::string(GENZOO_TEST_OUTPUT_DIR) + "/" + name; }

// 60 grey 8 x 8 images, a bright square that moves: a dataset that trains in
// a moment.
void write_square_images(const std::string& path) {
  auto imgs = torch::zeros({60, 8, 8}, torch::kUInt8);
  for (int64_t i = 0; i < 60; ++i) imgs[i].slice(0, i % 4, i % 4 + 4).slice(1, 2, 6).fill_(200);
  write_idx(path, imgs);
}

std::string write_page_file(const TempDir& dir, const std::string& name, const HtmlPage& page) {
  const std::string path = dir / name;
  write_file(path, page.render(page.charts() > 0 ? charting_library() : std::string()));
  return path;
}

TEST(Html, EscapesMarkupAndEncodesBase64) {
  EXPECT_EQ(html_escape("<a href=\"x\">&'</a>"), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;");
  // RFC 4648's test vectors.
  EXPECT_EQ(base64(""), "");
  EXPECT_EQ(base64("f"), "Zg==");
  EXPECT_EQ(base64("fo"), "Zm8=");
  EXPECT_EQ(base64("foo"), "Zm9v");
  EXPECT_EQ(base64("foob"), "Zm9vYg==");
  EXPECT_EQ(base64("fooba"), "Zm9vYmE=");
  EXPECT_EQ(base64("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64(std::string("\xff\x00\x80", 3)), "/wCA");
}

TEST(Html, ChartSpecsCannotCloseTheirScriptElement) {
  HtmlPage page("t");
  page.chart({{"title", "</script><script>alert(1)</script>"}, {"mark", "point"}});
  const std::string html = page.render("/* library */");
  EXPECT_EQ(html.find("</script><script>alert"), std::string::npos);
  EXPECT_NE(html.find("\\u003c/script>"), std::string::npos);
}

TEST(Html, ThePageNeedsTheLibraryOnlyForCharts) {
  HtmlPage text_only("t");
  text_only.paragraph("no charts");
  EXPECT_EQ(text_only.render("/* LIBRARY */").find("LIBRARY"), std::string::npos);
  EXPECT_NO_THROW(text_only.render(""));
  HtmlPage with_chart("t");
  with_chart.chart({{"mark", "point"}});
  EXPECT_THROW(with_chart.render(""), Error);
}

TEST(RunReport, ChartsGroupRelatedMetricsAndSplits) {
  std::vector<nlohmann::json> lines = {
      {{"event", "step"}, {"step", 100}, {"d_loss", 1.2}, {"g_loss", 0.7}, {"d_real", 0.6}, {"examples_per_s", 50.0}},
      {{"event", "step"}, {"step", 200}, {"d_loss", 1.1}, {"g_loss", 0.8}, {"d_real", 0.55}, {"examples_per_s", 52.0}},
      {{"event", "epoch"}, {"step", 200}, {"train_d_loss", 1.15}, {"val_nll", 90.0}, {"test_nll", 91.0}},
      {{"event", "warning"}, {"step", 150}, {"message", "D wins"}},
      {{"event", "final"}, {"step", 210}, {"val_nll", 89.5}},
      {{"event", "end"}, {"step", 210}, {"elapsed_s", 3.0}, {"stopped_early", false}}};
  auto charts = metric_charts(lines);
  std::vector<std::string> titles;
  for (const auto& c : charts) titles.push_back(c.first["title"].get<std::string>());
  ASSERT_EQ(titles.size(), 4u) << ::testing::PrintToString(titles);
  EXPECT_EQ(titles[0], "d_loss and g_loss");
  EXPECT_EQ(titles[1], "d_real");
  EXPECT_EQ(titles[2], "nll");
  EXPECT_EQ(titles[3], "examples per second");
  // The held-out chart: validation at 200 and 210, test at 200; the train_
  // mean of a per-step metric is not drawn twice.
  const auto& values = charts[2].first["data"]["values"];
  ASSERT_EQ(values.size(), 3u);
  std::multiset<std::string> series;
  for (const auto& v : values) series.insert(v["series"].get<std::string>());
  EXPECT_EQ(series.count("validation"), 2u);
  EXPECT_EQ(series.count("test"), 1u);
  EXPECT_TRUE(run_finished(lines));
  lines.pop_back();
  EXPECT_FALSE(run_finished(lines));
  // Trained on after a resume: the old end is no longer the last line.
  lines.push_back({{"event", "end"}, {"step", 210}});
  lines.push_back({{"event", "resumed"}, {"step", 210}});
  EXPECT_FALSE(run_finished(lines));
}

TEST(RunReport, LongCurvesAreThinnedButKeepTheirEnds) {
  std::vector<nlohmann::json> lines;
  for (int s = 1; s <= 5000; ++s) lines.push_back({{"event", "step"}, {"step", s}, {"loss", 1.0 / s}});
  auto charts = metric_charts(lines);
  ASSERT_EQ(charts.size(), 1u);
  const auto& values = charts[0].first["data"]["values"];
  EXPECT_LE(values.size(), 1501u);
  EXPECT_GE(values.size(), 1000u);
  EXPECT_EQ(values.front()["step"].get<int>(), 1);
  EXPECT_EQ(values.back()["step"].get<int>(), 5000);
}

TEST(RunReport, SampleGridsInStepOrderFinalLast) {
  TempDir dir;
  for (const char* name : {"final.png", "epoch_10.png", "epoch_2.png", "epoch_1.png", "notes.txt"})
    write_file(dir / name, "x");
  EXPECT_EQ(files_in_step_order(dir.path(), ".png"),
            (std::vector<std::string>{"epoch_1.png", "epoch_2.png", "epoch_10.png", "final.png"}));
}

TEST(RunReport, AFolderThatIsNotARunIsAnError) {
  TempDir dir;
  EXPECT_THROW(run_report(dir / "missing"), Error);
  EXPECT_THROW(run_report(dir.path()), Error);  // neither config.toml nor metrics.jsonl
}

// A trained run's page in the browser: its curves drawn, its grids shown.
TEST(ReportInBrowser, ARunPageDrawsEveryChartAndImage) {
  TempDir dir;
  write_square_images(dir / "images.idx");
  const std::string run = dir / "run";
  auto r = run_cli("train independent --data idx:" + (dir / "images.idx") + " --binarize threshold --out " + run +
                   " --epochs 3 --set train.batch_size=4 --set train.log_every=5 --threads 1");
  ASSERT_EQ(r.status, 0) << r.err;
  r = run_cli("eval " + run + " --metrics nll --threads 1");
  ASSERT_EQ(r.status, 0) << r.err;
  r = run_cli("report " + run);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, run + "/report.html\n");
  const std::string html = read_file(run + "/report.html");
  EXPECT_NE(html.find("eval.json"), std::string::npos);
  EXPECT_NE(html.find("<td>finished</td>"), std::string::npos);
  EXPECT_EQ(html.find("src=\"http"), std::string::npos);  // nothing fetched from anywhere
  auto c = open_in_browser(run + "/report.html", screenshot_path("run-report.png"));
  ASSERT_EQ(c.state, "drawn") << c.dom.substr(0, 2000);
  EXPECT_EQ(c.errors, 0) << c.error_text;
  EXPECT_GE(c.charts, 2);  // the loss per step, the held-out NLL
  EXPECT_EQ(c.charts_drawn, c.charts);
  EXPECT_GE(c.images, 3);  // a grid per epoch
  EXPECT_EQ(c.images_loaded, c.images);
}

TEST(ReportInBrowser, ARunWithNoCurvesYetRendersWithANote) {
  TempDir dir;
  const std::string run = dir / "run";
  ensure_dir(run);
  write_file(run + "/config.toml", "[model]\nname = 'nade'\n\n[data]\nname = 'fashion-mnist'\n");
  auto r = run_cli("report " + run);
  ASSERT_EQ(r.status, 0) << r.err;
  const std::string html = read_file(run + "/report.html");
  EXPECT_NE(html.find("No curves yet"), std::string::npos);
  EXPECT_NE(html.find("No sample grids yet"), std::string::npos);
  auto c = open_in_browser(run + "/report.html", screenshot_path("run-report-empty.png"));
  ASSERT_EQ(c.state, "drawn");
  EXPECT_EQ(c.errors, 0) << c.error_text;
  EXPECT_EQ(c.charts, 0);
  EXPECT_EQ(c.images, 0);
}

// The check itself: a chart Vega-Lite cannot compile and bytes that are no
// image are reported, not passed.
TEST(ReportInBrowser, BrokenChartsAndImagesAreCaught) {
  TempDir dir;
  HtmlPage page("broken on purpose");
  page.chart({{"$schema", "https://vega.github.io/schema/vega-lite/v6.json"},
              {"data", {{"values", nlohmann::json::array({{{"a", 1}}})}}},
              {"mark", "no-such-mark"},
              {"encoding", {{"x", {{"field", "a"}, {"type", "quantitative"}}}}}});
  page.chart({{"$schema", "https://vega.github.io/schema/vega-lite/v6.json"},
              {"data", {{"values", nlohmann::json::array({{{"a", 1}}, {{"a", 2}}})}}},
              {"mark", "point"},
              {"encoding", {{"x", {{"field", "a"}, {"type", "quantitative"}}}}}});
  // Valid, but with no data: it draws axes and no marks.
  page.chart({{"$schema", "https://vega.github.io/schema/vega-lite/v6.json"},
              {"data", {{"values", nlohmann::json::array()}}},
              {"mark", "point"},
              {"encoding", {{"x", {{"field", "a"}, {"type", "quantitative"}}}}}});
  page.image("not a png at all", "broken");
  auto c = open_in_browser(write_page_file(dir, "broken.html", page));
  ASSERT_EQ(c.state, "drawn");
  EXPECT_EQ(c.charts, 3);
  EXPECT_EQ(c.charts_drawn, 1);
  EXPECT_NE(c.error_text.find("chart-2 has no marks"), std::string::npos) << c.error_text;
  EXPECT_EQ(c.images, 1);
  EXPECT_EQ(c.images_loaded, 0);
  EXPECT_GE(c.errors, 2);
  EXPECT_NE(c.error_text.find("chart-0"), std::string::npos) << c.error_text;
}

// A comparison in which one model failed: the others stand, the failure is
// on the page.
TEST(ReportInBrowser, AComparisonWithAFailedModelRendersWithANote) {
  TempDir dir;
  const std::string run = dir / "runs/good";
  ensure_dir(run + "/samples");
  write_file(run + "/metrics.jsonl",
             "{\"event\":\"epoch\",\"step\":10,\"test_nll\":90.5,\"elapsed_s\":1}\n"
             "{\"event\":\"final\",\"step\":12,\"val_nll\":90.1,\"elapsed_s\":2}\n");
  save_grid(run + "/samples/final.png", torch::rand({4, 1, 8, 8}), 2);
  nlohmann::json results{
      {"data", "fashion-mnist"}, {"time_limit_s", 5}, {"seeds", 1}, {"samples", 100}, {"ood", ""},
      {"models",
       {{{"model", "nade"},
         {"family", "explicit"},
         {"capabilities", "sample,density,complete,autoregressive"},
         {"runs",
          {{{"seed", 0}, {"run", run}, {"status", "done"}, {"train_seconds", 5.0}, {"steps", 12},
            {"metrics", {{"nll_is", "exact"}, {"nll_nats", 90.0}, {"nll_stderr", 0.5}, {"fid", 30.0},
                         {"seconds_per_64_samples", 0.5}, {"sharpness_ratio", 0.9}}}}}}},
        {{"model", "dcgan"},
         {"family", "adversarial"},
         {"capabilities", "sample"},
         {"runs",
          {{{"seed", 0}, {"run", dir / "runs/bad"}, {"status", "failed"},
            {"error", "training exited with status 1: genzoo: internal error: out of memory"}}}}}}}};
  write_file(dir / "results.json", results.dump());
  auto r = run_cli("report " + dir.path());
  ASSERT_EQ(r.status, 0) << r.err;
  const std::string html = read_file(dir / "report.html");
  EXPECT_NE(html.find("This run failed: training exited with status 1"), std::string::npos);
  EXPECT_NE(html.find("<td class=\"num\">1 of 1</td>"), std::string::npos);
  EXPECT_NE(html.find("<td class=\"num\">0 of 1 (failed: see below)</td>"), std::string::npos);
  auto c = open_in_browser(dir / "report.html", screenshot_path("comparison-failed-model.png"));
  ASSERT_EQ(c.state, "drawn");
  EXPECT_EQ(c.errors, 0) << c.error_text;
  EXPECT_GE(c.charts, 2);
  EXPECT_EQ(c.charts_drawn, c.charts);
  EXPECT_EQ(c.images_loaded, c.images);
  EXPECT_EQ(c.images, 1);
}

// --watch follows a run that is training: pages that reload themselves
// while it trains, then a final one without the reload after its end event.
TEST(ReportCli, WatchRewritesThePageUntilTheRunEnds) {
  TempDir dir;
  write_square_images(dir / "images.idx");
  const std::string run = dir / "run";
  const int trainer = testing::spawn_cli("train independent --data idx:" + (dir / "images.idx") +
                                             " --binarize threshold --out " + run +
                                             " --time-limit 10 --set train.batch_size=2 --set train.log_every=20 "
                                             "--threads 1",
                                         {}, dir / "train.log");
  // Whatever happens below, no process outlives the test.
  struct Reaper {
    std::vector<int> pids;
    ~Reaper() {
      for (int p : pids) {
        kill(p, SIGKILL);
        waitpid(p, nullptr, 0);
      }
    }
  } reaper{{trainer}};
  for (int i = 0; i < 200 && !file_exists(run + "/metrics.jsonl"); ++i) usleep(50000);
  ASSERT_TRUE(file_exists(run + "/metrics.jsonl")) << read_file(dir / "train.log");
  const int watcher = testing::spawn_cli("report " + run + " --watch --every 1 --idle 30", {}, dir / "watch.log");
  reaper.pids.push_back(watcher);
  // While it trains: a page that reloads itself.
  bool reloading = false;
  for (int i = 0; i < 100 && !reloading; ++i) {
    usleep(50000);
    reloading = file_exists(run + "/report.html") &&
                read_file(run + "/report.html").find("http-equiv=\"refresh\"") != std::string::npos;
  }
  EXPECT_TRUE(reloading) << read_file(dir / "watch.log");
  int status = 0;
  waitpid(trainer, &status, 0);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << read_file(dir / "train.log");
  waitpid(watcher, &status, 0);
  reaper.pids.clear();
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << read_file(dir / "watch.log");
  const std::string log = read_file(dir / "watch.log");
  EXPECT_NE(log.find("every 1 s until the run ends"), std::string::npos) << log;
  EXPECT_NE(log.find("the run has ended"), std::string::npos) << log;
  const std::string html = read_file(run + "/report.html");
  EXPECT_EQ(html.find("http-equiv=\"refresh\""), std::string::npos);
  EXPECT_NE(html.find("<td>finished</td>"), std::string::npos);
}

TEST(ReportCli, BadInputsExitTwoNamingTheProblem) {
  TempDir dir;
  auto r = run_cli("report " + (dir / "nowhere"));
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("does not exist"), std::string::npos) << r.err;
  r = run_cli("report " + dir.path());
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("not a run folder"), std::string::npos) << r.err;
  r = run_cli("report " + dir.path() + " " + dir.path() + " --out x.html");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("--out names one page"), std::string::npos) << r.err;
  write_file(dir / "results.json", "{\"models\": 3}");
  r = run_cli("report " + dir.path());
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("not a genzoo compare results file"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace genzoo
