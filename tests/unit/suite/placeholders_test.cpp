// Placeholder scanning, expansion, argv expansion and shell quoting.

#include <stdio.h>

#include <catch2/catch.hpp>
#include <map>

#include "shardrun/error.hpp"
#include "shardrun/placeholders.hpp"

using namespace shardrun;

namespace {

PlaceholderValues sample_values(const std::vector<std::string>* tests) {
  PlaceholderValues values;
  values.shard = 2;
  values.shards = 8;
  values.run_dir = "/runs/r1";
  values.tmp = "/runs/r1/tmp/2";
  values.junit = "/runs/r1/junit/u7.xml";
  values.tests = tests;
  static const std::map<std::string, std::string, std::less<>> env = {{"HOME", "/home/ci"},
                                                                      {"PORT", "4444"}};
  values.env = [](std::string_view name) -> std::optional<std::string> {
    auto it = env.find(name);
    if (it == env.end()) return std::nullopt;
    return it->second;
  };
  return values;
}

std::vector<std::pair<std::string, size_t>> refs(std::string_view text) {
  std::vector<std::pair<std::string, size_t>> out;
  for (const auto& ref : find_placeholders(text)) out.emplace_back(ref.name, ref.offset);
  return out;
}

using Refs = std::vector<std::pair<std::string, size_t>>;

}  // namespace

TEST_CASE("is_known_placeholder", "[placeholders]") {
  for (const char* name : {"shard", "shards", "tests", "junit", "run_dir", "tmp", "env.HOME",
                           "env._x1", "env.lower"}) {
    INFO(name);
    CHECK(is_known_placeholder(name));
  }
  for (const char* name :
       {"", "foo", "Shard", "env", "env.", "env.1X", "env.A-B", "tmpdir", "shard ", "env.HOME.x"}) {
    INFO(name);
    CHECK_FALSE(is_known_placeholder(name));
  }
}

TEST_CASE("find_placeholders reports names and offsets", "[placeholders]") {
  CHECK(refs("run {shard}/{shards} {tests} {junit} {run_dir} {tmp} {env.HOME}") ==
        Refs{{"shard", 4},
             {"shards", 12},
             {"tests", 21},
             {"junit", 29},
             {"run_dir", 37},
             {"tmp", 47},
             {"env.HOME", 53}});
  CHECK(refs("{foo}") == Refs{{"foo", 0}});  // unknown names are still found
  CHECK(refs("x{shard}y") == Refs{{"shard", 1}});
}

TEST_CASE("braces that are not placeholders are literal text", "[placeholders]") {
  for (const char* text :
       {"echo ${HOME}", "echo ${shard}", "cp f{a,b}", "curl -d '{\"json\": 1}'", "awk '{print $1}'",
        "find . -exec rm {} \\;", "{Foo}", "{env.}", "{ shard }", "{shard-1}", "}{", "{{shard}}",
        "{{tests}} and }}", "{", "}", "{env.1A}"}) {
    INFO(text);
    CHECK(find_placeholders(text).empty());
  }
}

TEST_CASE("an unterminated placeholder is reported with an empty name", "[placeholders]") {
  CHECK(refs("--junitxml={junit") == Refs{{"", 11}});
  CHECK(refs("{env.PORT") == Refs{{"", 0}});
  CHECK_THROWS_WITH(
      expand_placeholders("--out={junit", sample_values(nullptr), false),
      "unterminated placeholder '{junit' (add '}', or write '{{' for a literal brace)");
}

TEST_CASE("expansion of every placeholder", "[placeholders]") {
  const std::vector<std::string> ids = {"t::a", "t::b"};
  const PlaceholderValues values = sample_values(&ids);
  CHECK(expand_placeholders("{shard}/{shards}", values, false) == "2/8");
  CHECK(expand_placeholders("--junitxml={junit}", values, false) ==
        "--junitxml=/runs/r1/junit/u7.xml");
  CHECK(expand_placeholders("{run_dir}:{tmp}", values, false) == "/runs/r1:/runs/r1/tmp/2");
  CHECK(expand_placeholders("http://localhost:{env.PORT}/", values, false) ==
        "http://localhost:4444/");
  CHECK(expand_placeholders("[{env.UNSET}]", values, false) == "[]");
  CHECK(expand_placeholders("pytest {tests}", values, false) == "pytest t::a t::b");
  CHECK(expand_placeholders("db_{shard}_{shard}", values, false) == "db_2_2");
}

TEST_CASE("{env.NAME} without a lookup function expands to nothing", "[placeholders]") {
  PlaceholderValues values;
  CHECK(expand_placeholders("a{env.HOME}b", values, false) == "ab");
}

TEST_CASE("double braces are literal braces; shell and JSON text is untouched", "[placeholders]") {
  const PlaceholderValues values = sample_values(nullptr);
  CHECK(expand_placeholders("{{shard}}", values, false) == "{shard}");
  CHECK(expand_placeholders("{{{shard}}}", values, false) == "{2}");
  CHECK(expand_placeholders("a }} b {{", values, false) == "a } b {");
  CHECK(expand_placeholders("echo ${HOME} ${shard} $HOME", values, true) ==
        "echo ${HOME} ${shard} $HOME");
  CHECK(expand_placeholders("cp f{a,b} {} {Foo} }{", values, true) == "cp f{a,b} {} {Foo} }{");
  CHECK(expand_placeholders("curl -d '{\"json\": 1}'", values, true) == "curl -d '{\"json\": 1}'");
  CHECK(expand_placeholders("awk '{print $1}' f{shard}", values, true) == "awk '{print $1}' f2");
}

TEST_CASE("unknown or unavailable placeholders throw at expansion", "[placeholders]") {
  PlaceholderValues values = sample_values(nullptr);
  CHECK_THROWS_WITH(expand_placeholders("x {foo}", values, false),
                    "unknown placeholder '{foo}' (known: {shard}, {shards}, {tests}, "
                    "{tests_file}, {junit}, {run_dir}, {tmp}, {env.NAME})");
  CHECK_THROWS_WITH(expand_placeholders("x {tests_file}", values, false),
                    Catch::Contains("'{tests_file}' is not available here"));
  values.tests_file = "/run/tests/000-a.txt";
  CHECK(expand_placeholders("run @{tests_file}", values, true) == "run @/run/tests/000-a.txt");
  CHECK(expand_argv({"run", "{tests_file}"}, values) ==
        std::vector<std::string>{"run", "/run/tests/000-a.txt"});
  values.tests_file.clear();
  CHECK_THROWS_AS(expand_placeholders("x {tests}", values, true), Error);
  CHECK_THROWS_AS(expand_argv({"run", "{tests}"}, values), Error);
  values.junit.clear();
  CHECK_THROWS_AS(expand_placeholders("--junitxml={junit}", values, false), Error);
  // The same text without the placeholder is fine.
  CHECK(expand_placeholders("--junitxml=x", values, false) == "--junitxml=x");
}

TEST_CASE("{tests} in a shell script becomes shell-quoted words", "[placeholders]") {
  const std::vector<std::string> ids = {
      "tests/a.py::test_x", "t b", "it's", "$(rm -rf /)", "`id`", "a;b", ""};
  const PlaceholderValues values = sample_values(&ids);
  CHECK(expand_placeholders("pytest {tests} -q", values, true) ==
        "pytest tests/a.py::test_x 't b' 'it'\\''s' '$(rm -rf /)' '`id`' 'a;b' '' -q");
  const std::vector<std::string> none;
  CHECK(expand_placeholders("pytest {tests} -q", sample_values(&none), true) == "pytest  -q");
}

TEST_CASE("expand_argv: a lone {tests} becomes one argument per id", "[placeholders]") {
  const std::vector<std::string> ids = {"t b", "it's", "c"};
  const PlaceholderValues values = sample_values(&ids);
  CHECK(expand_argv({"pytest", "-p", "no:cacheprovider", "{tests}", "--junitxml={junit}"},
                    values) == std::vector<std::string>{"pytest", "-p", "no:cacheprovider", "t b",
                                                        "it's", "c",
                                                        "--junitxml=/runs/r1/junit/u7.xml"});
  // Embedded in a larger word: ids joined by single spaces, not quoted.
  CHECK(expand_argv({"run", "--only={tests}"}, values) ==
        std::vector<std::string>{"run", "--only=t b it's c"});
  const std::vector<std::string> none;
  CHECK(expand_argv({"run", "{tests}", "end"}, sample_values(&none)) ==
        std::vector<std::string>{"run", "end"});
  CHECK(expand_argv({"x{shard}", "{{tests}}", "${HOME}"}, values) ==
        std::vector<std::string>{"x2", "{tests}", "${HOME}"});
}

TEST_CASE("shell_quote", "[placeholders]") {
  CHECK(shell_quote("") == "''");
  CHECK(shell_quote("simple") == "simple");
  CHECK(shell_quote("a/b.c:d,e@f%g+h=i-j_k") == "a/b.c:d,e@f%g+h=i-j_k");
  CHECK(shell_quote("a b") == "'a b'");
  CHECK(shell_quote("it's") == "'it'\\''s'");
  CHECK(shell_quote("'") == "''\\'''");
  CHECK(shell_quote("$HOME") == "'$HOME'");
  CHECK(shell_quote("a\nb") == "'a\nb'");
  CHECK(shell_quote("*") == "'*'");
  CHECK(shell_quote("~") == "'~'");
}

TEST_CASE("the shell reads shell-quoted test ids back literally", "[placeholders][shell]") {
  const std::vector<std::string> ids = {
      "plain", "with space",  "it's",      "\"dq\"", "$(echo x)", "`echo y`", "a;b && c", "$HOME",
      "*",     "back\\slash", "tab\there", "",       "-n",        "%s%s",     "{shard}",  "ünï"};
  const PlaceholderValues values = sample_values(&ids);
  const std::string script = expand_placeholders("printf '%s\\n' {tests}", values, true);
  FILE* pipe = popen(("/bin/sh -c " + shell_quote(script)).c_str(), "r");
  REQUIRE(pipe != nullptr);
  std::string out;
  char buffer[256];
  size_t n;
  while ((n = fread(buffer, 1, sizeof buffer, pipe)) > 0) out.append(buffer, n);
  REQUIRE(pclose(pipe) == 0);
  std::string expected;
  for (const auto& id : ids) expected += id + "\n";
  CHECK(out == expected);
}
