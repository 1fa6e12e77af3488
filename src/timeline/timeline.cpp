// The timeline page: run.json -> the compact data the page's script draws,
// embedded in the page as JSON (DESIGN §6). The drawing is in page.cpp.
#include "shardrun/timeline.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "page.hpp"
#include "shardrun/atomic_file.hpp"
#include "shardrun/error.hpp"

namespace shardrun {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

json parse_run(const std::string& text) {
  json run = json::parse(text, nullptr, false);
  if (run.is_discarded() || !run.is_object() || !run.contains("units") || !run["units"].is_array())
    throw Error("not a shardrun run.json (no units)");
  return run;
}

double number(const json& j, const char* key, double fallback = 0) {
  auto it = j.find(key);
  return it != j.end() && it->is_number() ? it->get<double>() : fallback;
}

std::string text(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

CriticalPath critical_of(const json& run) {
  CriticalPath path;
  for (const json& u : run["units"]) {
    int shard = static_cast<int>(number(u, "shard", -1));
    if (shard < 0) continue;
    double end = number(u, "end");
    if (path.shard < 0 || end > path.end) {
      path.shard = shard;
      path.end = end;
    }
  }
  if (path.shard < 0) return path;
  std::vector<std::pair<double, std::size_t>> mine;
  for (const json& u : run["units"])
    if (static_cast<int>(number(u, "shard", -1)) == path.shard)
      mine.emplace_back(number(u, "start"), u.value("id", std::size_t{0}));
  std::sort(mine.begin(), mine.end());
  for (const auto& [start, id] : mine) path.units.push_back(id);
  return path;
}

/// One unit as the page needs it: short keys, a few test ids, no command.
json unit_data(const json& u) {
  json tests = json::array();
  std::size_t count = 0;
  if (auto it = u.find("tests"); it != u.end() && it->is_array()) {
    count = it->size();
    for (std::size_t i = 0; i < count && i < 5; ++i) tests.push_back((*it)[i]);
  }
  std::string status;
  if (auto it = u.find("status"); it != u.end() && it->is_object())
    status = text(*it, "description");
  return {{"id", u.value("id", std::size_t{0})},
          {"label", text(u, "label")},
          {"entry", text(u, "entry")},
          {"shard", static_cast<int>(number(u, "shard", -1))},
          {"start", number(u, "start")},
          {"end", number(u, "end")},
          {"result", text(u, "result")},
          {"predicted", number(u, "predicted_seconds")},
          {"actual", number(u, "actual_seconds")},
          {"status", status},
          {"log", text(u, "log")},
          {"ntests", count},
          {"tests", std::move(tests)},
          {"testcases", number(u, "testcases")},
          {"failures", number(u, "failures")},
          {"note", text(u, "note")}};
}

/// A run as the page draws it.
json run_data(const json& run) {
  json units = json::array();
  for (const json& u : run["units"]) units.push_back(unit_data(u));
  CriticalPath path = critical_of(run);
  json spans = json::array();
  if (auto it = run.find("shard_spans"); it != run.end() && it->is_array()) spans = *it;
  return {{"suite", text(run, "suite")},
          {"run_id", text(run, "run_id")},
          {"run_dir", text(run, "run_dir")},
          {"shards", static_cast<int>(number(run, "shards", 1))},
          {"elapsed", number(run, "elapsed")},
          {"exit_code", static_cast<int>(number(run, "exit_code"))},
          {"totals", run.value("totals", json::object())},
          {"balance", run.value("balance", json::object())},
          {"problems", run.value("problems", json::array())},
          {"critical", {{"shard", path.shard}, {"units", path.units}, {"end", path.end}}},
          {"shard_spans", std::move(spans)},
          {"units", std::move(units)}};
}

/// JSON safe inside <script>: no "<" at all, so no "</script>" or "<!--".
std::string script_safe(const std::string& json_text) {
  std::string out;
  out.reserve(json_text.size());
  for (char c : json_text) {
    if (c == '<')
      out += "\\u003c";
    else if (c == '>')
      out += "\\u003e";
    else if (c == '&')
      out += "\\u0026";
    else
      out += c;
  }
  return out;
}

std::string html_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

}  // namespace

CriticalPath critical_path(const std::string& run_json) {
  return critical_of(parse_run(run_json));
}

std::string render_timeline(const std::vector<std::string>& run_jsons) {
  json runs = json::array();
  std::string title;
  for (const std::string& t : run_jsons) {
    json run = parse_run(t);
    if (!title.empty()) title += ", ";
    title += text(run, "suite") + " " + text(run, "run_id");
    runs.push_back(run_data(run));
  }
  std::string data = script_safe(runs.dump(-1, ' ', false, json::error_handler_t::replace));
  return fmt::format(
      "{}<title>shardrun timeline: {}</title>\n<style>{}</style>\n</head>\n"
      "<body>\n{}\n<script type=\"application/json\" id=\"runs\">{}</script>\n"
      "<script>{}</script>\n</body>\n</html>\n",
      timeline_page::kHead, html_escape(title), timeline_page::kStyle, timeline_page::kBody, data,
      timeline_page::kScript);
}

void write_timeline(const fs::path& out, const std::vector<fs::path>& runs) {
  std::vector<std::string> texts;
  for (const fs::path& given : runs) {
    std::error_code ec;
    fs::path file = fs::is_directory(given, ec) ? given / "run.json" : given;
    std::ifstream in(file, std::ios::binary);
    if (!in) throw Error(fmt::format("{}: cannot read (is it a run directory?)", file.string()));
    std::ostringstream buffer;
    buffer << in.rdbuf();
    try {
      texts.push_back(buffer.str());
      parse_run(texts.back());
    } catch (const Error& e) {
      throw Error(fmt::format("{}: {}", file.string(), e.what()));
    }
  }
  write_file_atomically(out, render_timeline(texts));
}

}  // namespace shardrun
