// The pure side of retries and crash isolation: bisecting, labels, and the
// book of held tests (which testcase reports which id: tests/unit/frameworks/).
#include <catch2/catch.hpp>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "shardrun/retry_book.hpp"

using namespace shardrun;
using namespace shardrun::results;

namespace {

std::vector<std::string> ids(int n) {
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) out.push_back("t" + std::to_string(i));
  return out;
}

junit::Attempt attempt(const std::string& message) {
  junit::Attempt a;
  a.message = message;
  return a;
}

}  // namespace

TEST_CASE("split_halves: order kept, the first half takes the odd one") {
  auto [a, b] = split_halves(ids(8));
  CHECK(a == std::vector<std::string>{"t0", "t1", "t2", "t3"});
  CHECK(b == std::vector<std::string>{"t4", "t5", "t6", "t7"});
  auto [c, d] = split_halves(ids(5));
  CHECK(c == std::vector<std::string>{"t0", "t1", "t2"});
  CHECK(d == std::vector<std::string>{"t3", "t4"});
  auto [e, f] = split_halves(ids(1));
  CHECK(e == std::vector<std::string>{"t0"});
  CHECK(f.empty());
}

TEST_CASE("split_halves: bisecting any batch finds each test alone in ceil(log2 n) steps") {
  for (int n : {2, 3, 7, 8, 9, 100}) {
    int log2 = 0;
    while ((1 << log2) < n) ++log2;
    int most = 0;
    // Each test in turn is the one that crashes: follow the half holding it,
    // as isolation does, and count the rounds.
    for (const std::string& culprit : ids(n)) {
      INFO(n << " tests, culprit " << culprit);
      std::vector<std::string> batch = ids(n);
      int rounds = 0;
      while (batch.size() > 1) {
        auto [a, b] = split_halves(batch);
        CHECK_FALSE(a.empty());
        CHECK_FALSE(b.empty());
        std::set<std::string> all(a.begin(), a.end());
        all.insert(b.begin(), b.end());
        CHECK(all.size() == batch.size());  // nothing lost, nothing twice
        CHECK(a.size() + b.size() == batch.size());
        batch = std::find(b.begin(), b.end(), culprit) != b.end() ? b : a;
        ++rounds;
      }
      CHECK(batch.front() == culprit);
      CHECK(rounds <= log2);
      most = std::max(most, rounds);
    }
    CHECK(most == log2);
  }
}

TEST_CASE("labels of retries and halves") {
  CHECK(retry_label("api#3", 1) == "api#3.retry1");
  CHECK(retry_label("api#3.retry1", 2) == "api#3.retry2");
  CHECK(retry_label("smoke", 3) == "smoke.retry3");
  // Only a trailing ".retryN" is replaced.
  CHECK(retry_label("api#3.retry1.a", 2) == "api#3.retry1.a.retry2");
  CHECK(retry_label("x.retry", 1) == "x.retry.retry1");
  CHECK(half_label("api#3", 0) == "api#3.a");
  CHECK(half_label("api#3.a", 1) == "api#3.a.b");
}

TEST_CASE("RetryBook: attempts accumulate per test until released") {
  RetryBook book;
  const std::string b = RetryBook::id_key(0, "test_b");
  const std::string other_entry = RetryBook::id_key(1, "test_b");
  CHECK(b != other_entry);
  CHECK(RetryBook::case_key(0, "a", "bc") != RetryBook::case_key(0, "ab", "c"));

  book.hold(b, 0, "test_b", attempt("first"));
  book.hold(b, 0, "test_b", attempt("second"));
  book.hold(other_entry, 1, "test_b", attempt("elsewhere"));
  CHECK(book.size() == 2);
  REQUIRE(book.find(b));
  REQUIRE(book.find(b)->attempts.size() == 2);
  CHECK(book.find(b)->attempts[1].message == "second");
  CHECK(book.keys_of(0) == std::vector<std::string>{b});
  CHECK(book.keys_of(2).empty());

  std::optional<HeldTest> released = book.release(b);
  REQUIRE(released);
  CHECK(released->test == "test_b");
  CHECK(released->attempts.front().message == "first");
  CHECK_FALSE(book.find(b));
  CHECK_FALSE(book.release(b));
  CHECK(book.size() == 1);
}
