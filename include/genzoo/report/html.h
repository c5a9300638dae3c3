#pragma once
// A self-contained HTML page: headings, text, tables, charts and images in
// one file that opens offline with no server. Charts are Vega-Lite specs,
// drawn in the browser by Vega-Lite and Vega, whose minified builds are
// inlined into the page (web/package.json; scripts/setup installs them);
// images are embedded as data: URIs.
//
// The page checks itself after load and writes what it found on <body>:
//   data-report-state    "drawn" once every chart has been attempted
//   data-charts          charts on the page; data-charts-drawn: drawn with marks
//   data-images          images; data-images-loaded: decoded with a size
//   data-errors          uncaught errors, rejected promises and console.error calls
//   data-error-text      all of them, " | " between (cut at 4,000 characters)
// so a headless browser's DOM dump tells whether the page works
// (tests/report/html_test.cpp opens every kind of page in chromium).
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace genzoo {

/// Escapes &, <, >, " and ' for HTML text and attribute values.
std::string html_escape(const std::string& text);

/// Standard base64 (RFC 4648, with padding) of `bytes`.
std::string base64(const std::string& bytes);

/// The inlined charting library: vega.min.js then vega-lite.min.js, found as
/// shipped files ($GENZOO_WEB_DIR, <prefix>/share/genzoo/web, then the
/// source tree's web/node_modules/{vega,vega-lite}/build). genzoo::Error
/// naming the missing file and `scripts/setup` when either is absent.
std::string charting_library();

class HtmlPage {
 public:
  explicit HtmlPage(std::string title);

  void heading(const std::string& text, int level = 2);
  /// A paragraph of plain text (escaped).
  void paragraph(const std::string& text);
  /// A highlighted note (escaped): "no curves yet", "this model failed: ...".
  void note(const std::string& text);
  /// Preformatted text (escaped), e.g. a config file.
  void preformatted(const std::string& text);
  /// A table; cells are plain text (escaped). Rows shorter than the header
  /// are padded with empty cells.
  void table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows,
             const std::string& caption = "");
  /// A Vega-Lite chart (a spec with its data inline) and its caption.
  void chart(const nlohmann::json& vega_lite_spec, const std::string& caption = "");
  /// An embedded image: the bytes of a PNG file.
  void image(const std::string& png_bytes, const std::string& caption);
  /// Reload the page every `seconds` (genzoo report --watch); 0 = never.
  void refresh_every(int seconds) { refresh_seconds_ = seconds; }

  int charts() const { return charts_; }
  int images() const { return images_; }

  /// The whole page. `library` is charting_library()'s text; it is only
  /// needed (and only inlined) when the page has charts.
  std::string render(const std::string& library) const;

 private:
  std::string title_, body_;
  int charts_ = 0, images_ = 0, refresh_seconds_ = 0;
};

}  // namespace genzoo
