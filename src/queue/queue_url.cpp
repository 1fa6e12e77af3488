// The queue URL, and the password that must not be in it.
#include <charconv>
#include <string>

#include "shardrun/queue.hpp"

namespace shardrun {

namespace {

bool all_of_chars(std::string_view text, std::string_view extra) {
  for (char c : text) {
    bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (!alnum && extra.find(c) == std::string_view::npos) return false;
  }
  return true;
}

const char* const kForm = "expected redis://[USER@]HOST:PORT/RUN_ID";

}  // namespace

QueueUrl parse_queue_url(std::string_view url) {
  if (url.starts_with("rediss://"))
    throw UsageError(
        "queue URL: rediss:// (TLS) is not supported: TLS is not supported by "
        "hiredis 0.14; use redis:// on a trusted network or a tunnel");
  constexpr std::string_view kScheme = "redis://";
  if (!url.starts_with(kScheme)) throw UsageError(std::string("queue URL: ") + kForm);
  std::string_view rest = url.substr(kScheme.size());

  QueueUrl parsed;
  if (auto at = rest.rfind('@'); at != std::string_view::npos) {
    std::string_view userinfo = rest.substr(0, at);
    // Never repeat the URL here: it would carry the password into logs.
    if (userinfo.find(':') != std::string_view::npos)
      throw UsageError(
          "queue URL: a password in the URL is refused (it would show in ps and CI logs); "
          "give it in SHARDRUN_QUEUE_PASSWORD");
    if (userinfo.empty() || !all_of_chars(userinfo, "._-"))
      throw UsageError("queue URL: bad user name; " + std::string(kForm));
    parsed.user = userinfo;
    rest = rest.substr(at + 1);
  }

  auto slash = rest.find('/');
  if (slash == std::string_view::npos)
    throw UsageError(std::string("queue URL: no RUN_ID; ") + kForm);
  std::string_view hostport = rest.substr(0, slash);
  std::string_view run_id = rest.substr(slash + 1);

  auto colon = hostport.rfind(':');
  if (colon == std::string_view::npos)
    throw UsageError(std::string("queue URL: no port; ") + kForm);
  std::string_view host = hostport.substr(0, colon);
  std::string_view port = hostport.substr(colon + 1);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);  // [IPv6]
    if (!all_of_chars(host, ":.")) throw UsageError("queue URL: bad host");
  } else if (host.empty() || !all_of_chars(host, ".-")) {
    throw UsageError(std::string("queue URL: bad host; ") + kForm);
  }
  int number = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), number);
  if (port.empty() || ec != std::errc() || end != port.data() + port.size() || number < 1 ||
      number > 65535)
    throw UsageError("queue URL: the port must be a number from 1 to 65535");
  if (run_id.empty() || run_id.size() > 64 || !all_of_chars(run_id, "._-"))
    throw UsageError("queue URL: RUN_ID must be 1 to 64 of A-Z a-z 0-9 . _ -");

  parsed.host = host;
  parsed.port = number;
  parsed.run_id = run_id;
  return parsed;
}

}  // namespace shardrun
