#include "genzoo/report/html.h"

#include <algorithm>

#include "genzoo/core/error.h"
#include "genzoo/core/files.h"
#include "genzoo/core/paths.h"

namespace genzoo {

std::string html_escape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string base64(const std::string& bytes) {
  static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const uint32_t v = (static_cast<uint8_t>(bytes[i]) << 16) | (static_cast<uint8_t>(bytes[i + 1]) << 8) |
                       static_cast<uint8_t>(bytes[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out += kAlphabet[(v >> s) & 63];
  }
  const size_t rest = bytes.size() - i;
  if (rest > 0) {
    uint32_t v = static_cast<uint8_t>(bytes[i]) << 16;
    if (rest == 2) v |= static_cast<uint8_t>(bytes[i + 1]) << 8;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += rest == 2 ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

namespace {

std::string library_file(const std::string& package, const std::string& file) {
  const std::string path =
      find_shipped_file("GENZOO_WEB_DIR", "web", "web/node_modules/" + package + "/build", file);
  if (!file_exists(path))
    throw Error("the charting library is missing: " + path + " not found (scripts/setup installs it with npm)");
  std::string text = read_file(path);
  // The page needs no source map; a comment pointing at a missing file only
  // makes a browser's developer tools complain.
  const auto map = text.rfind("//# sourceMappingURL=");
  if (map != std::string::npos) text.erase(map);
  // Inlined in <script>, the text must not close the element early.
  if (text.find("</script") != std::string::npos)
    throw Error("the charting library " + path + " holds '</script' and cannot be inlined");
  return text;
}

// JSON inside <script type="application/json">: '<' only occurs in strings,
// where \u003c means the same, so no "</script>" or "<!--" can appear.
std::string script_safe_json(const nlohmann::json& j) {
  const std::string text = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '<') out += "\\u003c";
    else out += c;
  }
  return out;
}

// Installed first of all, so that errors in the library itself are counted.
const char* kErrorHooks = R"JS(
window.genzooReport = {errors: []};
window.addEventListener('error', function (e) {
  window.genzooReport.errors.push('error: ' + (e.message || (e.target && e.target.tagName) || e));
}, true);
window.addEventListener('unhandledrejection', function (e) {
  window.genzooReport.errors.push('unhandled rejection: ' + ((e.reason && e.reason.message) || e.reason));
});
(function () {
  var original = console.error;
  console.error = function () {
    window.genzooReport.errors.push('console.error: ' + Array.prototype.join.call(arguments, ' '));
    original.apply(console, arguments);
  };
})();
)JS";

// Draws every chart, waits for every image, then records on <body> what
// worked (see html.h).
const char* kDrawCharts = R"JS(
(function () {
  var body = document.body;
  var charts = Array.prototype.slice.call(document.querySelectorAll('div.chart'));
  var drawn = 0;
  var jobs = charts.map(function (el) {
    try {
      var spec = JSON.parse(document.getElementById(el.getAttribute('data-spec')).textContent);
      var compiled = vegaLite.compile(spec).spec;
      var view = new vega.View(vega.parse(compiled), {renderer: 'svg', container: el, hover: true});
      return view.runAsync().then(function () {
        if (el.querySelectorAll('g.role-mark > *').length > 0) drawn += 1;
        else window.genzooReport.errors.push('chart ' + el.id + ' has no marks');
      }, function (err) { window.genzooReport.errors.push('chart ' + el.id + ': ' + err); });
    } catch (err) {
      window.genzooReport.errors.push('chart ' + el.id + ': ' + err);
      return Promise.resolve();
    }
  });
  var images = Array.prototype.slice.call(document.querySelectorAll('img'));
  var loads = images.map(function (img) {
    if (img.complete) return Promise.resolve();
    return new Promise(function (done) { img.addEventListener('load', done); img.addEventListener('error', done); });
  });
  Promise.all(jobs.concat(loads)).then(function () {
    var loaded = images.filter(function (img) { return img.complete && img.naturalWidth > 0; }).length;
    var errors = window.genzooReport.errors;
    body.setAttribute('data-report-state', 'drawn');
    body.setAttribute('data-charts', String(charts.length));
    body.setAttribute('data-charts-drawn', String(drawn));
    body.setAttribute('data-images', String(images.length));
    body.setAttribute('data-images-loaded', String(loaded));
    body.setAttribute('data-errors', String(errors.length));
    if (errors.length) body.setAttribute('data-error-text', errors.join(' | ').slice(0, 4000));
  });
})();
)JS";

const char* kStyle = R"CSS(
body { font-family: system-ui, sans-serif; margin: 1.5em auto; max-width: 1280px; padding: 0 1em; color: #222; }
div.scroll { overflow-x: auto; max-width: 100%; }
h1 { font-size: 1.6em; } h2 { margin-top: 1.6em; border-bottom: 1px solid #ddd; } h3 { margin-top: 1.2em; }
table { border-collapse: collapse; margin: 0.6em 0; font-size: 0.92em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: left; vertical-align: top; }
th { background: #f3f3f3; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
caption { caption-side: bottom; font-size: 0.85em; color: #555; padding-top: 0.3em; text-align: left; }
figure { display: inline-block; margin: 0.5em 1em 0.5em 0; vertical-align: top; }
figcaption { font-size: 0.85em; color: #555; max-width: 480px; }
img { image-rendering: pixelated; max-width: 100%; border: 1px solid #ddd; }
pre { background: #f7f7f7; padding: 0.6em; overflow-x: auto; font-size: 0.85em; }
.note { background: #fff6d8; border-left: 4px solid #e0b400; padding: 0.5em 0.8em; }
)CSS";

bool looks_numeric(const std::string& cell) {
  if (cell.empty()) return false;
  const char c = cell[0];
  return (c >= '0' && c <= '9') || ((c == '-' || c == '+' || c == '.') && cell.size() > 1);
}

}  // namespace

std::string charting_library() {
  return library_file("vega", "vega.min.js") + "\n;\n" + library_file("vega-lite", "vega-lite.min.js") + "\n";
}

HtmlPage::HtmlPage(std::string title) : title_(std::move(title)) {}

void HtmlPage::heading(const std::string& text, int level) {
  const std::string tag = "h" + std::to_string(std::min(std::max(level, 1), 4));
  body_ += "<" + tag + ">" + html_escape(text) + "</" + tag + ">\n";
}

void HtmlPage::paragraph(const std::string& text) { body_ += "<p>" + html_escape(text) + "</p>\n"; }

void HtmlPage::note(const std::string& text) { body_ += "<p class=\"note\">" + html_escape(text) + "</p>\n"; }

void HtmlPage::preformatted(const std::string& text) { body_ += "<pre>" + html_escape(text) + "</pre>\n"; }

void HtmlPage::table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows,
                     const std::string& caption) {
  body_ += "<div class=\"scroll\"><table>\n";
  if (!caption.empty()) body_ += "<caption>" + html_escape(caption) + "</caption>\n";
  if (!header.empty()) {
    body_ += "<tr>";
    for (const auto& h : header) body_ += "<th>" + html_escape(h) + "</th>";
    body_ += "</tr>\n";
  }
  for (const auto& row : rows) {
    body_ += "<tr>";
    for (size_t i = 0; i < std::max(row.size(), header.size()); ++i) {
      const std::string cell = i < row.size() ? row[i] : "";
      body_ += looks_numeric(cell) ? "<td class=\"num\">" : "<td>";
      body_ += html_escape(cell) + "</td>";
    }
    body_ += "</tr>\n";
  }
  body_ += "</table></div>\n";
}

void HtmlPage::chart(const nlohmann::json& vega_lite_spec, const std::string& caption) {
  const std::string id = "chart-" + std::to_string(charts_);
  body_ += "<figure><div class=\"chart\" id=\"" + id + "\" data-spec=\"" + id + "-spec\"></div>";
  body_ += "<script type=\"application/json\" id=\"" + id + "-spec\">" + script_safe_json(vega_lite_spec) + "</script>";
  if (!caption.empty()) body_ += "<figcaption>" + html_escape(caption) + "</figcaption>";
  body_ += "</figure>\n";
  ++charts_;
}

void HtmlPage::image(const std::string& png_bytes, const std::string& caption) {
  // Small images (a grid of 28 x 28 tiles) shown at a whole multiple of
  // their size, at least ~400 pixels wide, with sharp pixels.
  std::string size;
  if (png_bytes.size() >= 24 && png_bytes.compare(12, 4, "IHDR") == 0) {
    const auto byte = [&](size_t i) { return static_cast<uint32_t>(static_cast<uint8_t>(png_bytes[i])); };
    const uint32_t width = (byte(16) << 24) | (byte(17) << 16) | (byte(18) << 8) | byte(19);
    if (width > 0 && width < 400) size = " width=\"" + std::to_string(width * ((400 + width - 1) / width)) + "\"";
  }
  body_ += "<figure><img alt=\"" + html_escape(caption) + "\"" + size + " src=\"data:image/png;base64," +
           base64(png_bytes) + "\">";
  if (!caption.empty()) body_ += "<figcaption>" + html_escape(caption) + "</figcaption>";
  body_ += "</figure>\n";
  ++images_;
}

std::string HtmlPage::render(const std::string& library) const {
  std::string page = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  if (refresh_seconds_ > 0) page += "<meta http-equiv=\"refresh\" content=\"" + std::to_string(refresh_seconds_) + "\">\n";
  page += "<title>" + html_escape(title_) + "</title>\n<style>" + std::string(kStyle) + "</style>\n";
  page += "<script>" + std::string(kErrorHooks) + "</script>\n";
  if (charts_ > 0) {
    if (library.empty()) throw Error("a page with charts needs the charting library");
    page += "<script>\n" + library + "</script>\n";
  }
  page += "</head>\n<body>\n<h1>" + html_escape(title_) + "</h1>\n" + body_;
  page += "<script>" + std::string(kDrawCharts) + "</script>\n</body>\n</html>\n";
  return page;
}

}  // namespace genzoo
