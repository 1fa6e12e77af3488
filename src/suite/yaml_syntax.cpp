// The YAML syntax check between the prescan and yaml-cpp.
//
// yaml-cpp 0.7 accepts many documents that are not YAML (an unterminated
// quote, a bad escape, a tab in an indentation, content after a flow-style
// root...) and builds a model from them that runs commands nobody wrote.
// libfyaml's parser is strict (0.7.12 refuses all 94 invalid cases of the
// YAML test suite and accepts its 308 valid ones), so its event stream is
// read once, only to learn whether the text is valid YAML; the
// events are discarded and yaml-cpp still builds the model that the Walker
// reads. Duplicate keys are not a parser matter: the Walker reports them.
//
// libfyaml reports through a diag object. Ours collects the reports of the
// parser instead of printing them, and sends the few messages that bypass
// collection (an error without a token, such as "indentation indicator 0")
// to a buffer, so nothing ever reaches stderr.
//
// Debian 12 ships libfyaml 0.7.12, which has two bugs plain text reaches:
// an endless loop on a directive that is not UTF-8 (the prescan refuses
// such text first) and a double free, then a crash, on a tab after ':'
// while an explicit key ("? ") is pending (fixed in 0.8 by upstream commit
// 0bb4406, "Fix double free in case of a bad key"). refuse_crash_trigger
// keeps the second kind away from it. A one-off survey of 3 million
// mutated YAML texts (not part of the tests) found no other crash or hang.

#include <libfyaml.h>

#include <memory>

#include "shardrun/error.hpp"
#include "suite_internal.hpp"

namespace shardrun::suite_detail {

namespace {

constexpr std::string_view kPrefix = "invalid YAML: ";

struct DiagDeleter {
  void operator()(fy_diag* diag) const { fy_diag_destroy(diag); }
};
struct ParserDeleter {
  void operator()(fy_parser* parser) const { fy_parser_destroy(parser); }
};

// Receives what the diag would print: "[ERR]: message\n" lines of errors
// reported without a location.
void keep_output(fy_diag* /*diag*/, void* user, const char* text, size_t size) {
  static_cast<std::string*>(user)->append(text, size);
}

// The first "[ERR]: message" line of printed diag output, without its tag.
std::string first_printed_error(std::string_view printed) {
  constexpr std::string_view kTag = "[ERR]: ";
  const size_t start = printed.find(kTag);
  if (start == std::string_view::npos) return {};
  const std::string_view rest = printed.substr(start + kTag.size());
  return std::string(rest.substr(0, rest.find('\n')));
}

std::unique_ptr<fy_diag, DiagDeleter> make_diag(std::string* printed) {
  fy_diag_cfg cfg;
  fy_diag_cfg_default(&cfg);  // sets fp = stderr: replaced below
  cfg.fp = nullptr;
  cfg.output_fn = keep_output;
  cfg.user = printed;
  cfg.level = FYET_ERROR;  // warnings (e.g. an unknown %directive) are not our business
  cfg.colorize = false;
  cfg.show_source = false;
  cfg.show_position = false;
  cfg.show_type = true;  // the "[ERR]: " tag first_printed_error looks for
  cfg.show_module = false;
  std::unique_ptr<fy_diag, DiagDeleter> diag(fy_diag_create(&cfg));
  if (!diag) throw Error("cannot check the suite's YAML: out of memory");
  fy_diag_set_collect_errors(diag.get(), true);
  return diag;
}

// The offset of the first tab among the blanks right after a ':', or npos.
size_t tab_after_colon(std::string_view text) {
  for (size_t colon = text.find(':'); colon != std::string_view::npos;
       colon = text.find(':', colon + 1)) {
    size_t i = colon + 1;
    while (i < text.size() && text[i] == ' ') ++i;
    if (i < text.size() && text[i] == '\t') return i;
  }
  return std::string_view::npos;
}

// A '?' before a blank, a line break or the end: an explicit key indicator
// where it is not in a scalar. NEL, LS and PS are line breaks in YAML 1.1.
bool has_key_indicator(std::string_view text) {
  for (size_t mark = text.find('?'); mark != std::string_view::npos;
       mark = text.find('?', mark + 1)) {
    const std::string_view next = text.substr(mark + 1);
    if (next.empty() || next[0] == ' ' || next[0] == '\t' || next[0] == '\n' || next[0] == '\r' ||
        next.starts_with("\xC2\x85") || next.starts_with("\xE2\x80\xA8") ||
        next.starts_with("\xE2\x80\xA9")) {
      return true;
    }
  }
  return false;
}

// Refuses text that would make libfyaml 0.7.12 free memory twice: a tab
// after a ':' in a text with an explicit key. Both are matched anywhere,
// even in quotes or a comment: a false alarm costs a clear message, a miss
// a crash.
void refuse_crash_trigger(std::string_view text, const std::string& file) {
  const size_t tab = tab_after_colon(text);
  if (tab == std::string_view::npos || !has_key_indicator(text)) return;
  const SourceLocation at = locate(text, tab);
  throw SuiteError(file, at.line, at.column,
                   "a tab after ':' in a file that also has '? ' (an explicit key, or text that "
                   "looks like one) cannot be checked safely; use spaces after the ':'");
}

}  // namespace

}  // namespace shardrun::suite_detail

namespace shardrun {

void check_yaml_syntax(std::string_view text, const std::string& file) {
  using namespace suite_detail;
  refuse_crash_trigger(text, file);

  std::string printed;
  const auto diag = make_diag(&printed);

  fy_parse_cfg cfg{};
  cfg.flags = static_cast<fy_parse_cfg_flags>(FYPCF_QUIET | FYPCF_COLLECT_DIAG |
                                              FYPCF_DEFAULT_VERSION_1_2 | FYPCF_JSON_NONE);
  cfg.diag = diag.get();
  const std::unique_ptr<fy_parser, ParserDeleter> parser(fy_parser_create(&cfg));
  // libfyaml reads the text in place; `text` outlives the parser.
  if (!parser || fy_parser_set_string(parser.get(), text.data(), text.size()) != 0) {
    throw Error("cannot check the suite's YAML: out of memory");
  }

  // Where the last good event ended: the place to point at when an error
  // comes without a location of its own.
  SourceLocation last_good{1, 1};
  while (fy_event* event = fy_parser_parse(parser.get())) {
    if (const fy_mark* end = fy_event_end_mark(event)) last_good = {end->line + 1, end->column + 1};
    fy_parser_event_free(parser.get(), event);
  }
  if (!fy_parser_get_stream_error(parser.get()) && !fy_diag_got_error(diag.get())) return;

  void* iter = nullptr;
  while (const fy_diag_error* error = fy_diag_errors_iterate(diag.get(), &iter)) {
    // Collected line and column are 1-based, the column in characters.
    if (error->type >= FYET_ERROR && error->line > 0 && error->column > 0) {
      throw SuiteError(file, error->line, error->column, std::string(kPrefix) + error->msg);
    }
  }
  std::string message = first_printed_error(printed);
  if (message.empty()) message = "the parser stopped here";
  throw SuiteError(file, last_good.line, last_good.column, std::string(kPrefix) + message);
}

}  // namespace shardrun
