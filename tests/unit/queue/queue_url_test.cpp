// parse_queue_url: the one form accepted, and what it refuses and why.
#include <catch2/catch.hpp>

#include "shardrun/queue.hpp"

using shardrun::parse_queue_url;
using shardrun::UsageError;

TEST_CASE("a queue URL gives host, port, run id and the run's key prefix") {
  auto url = parse_queue_url("redis://redis.ci:6379/pipeline-42.a_b");
  CHECK(url.user.empty());
  CHECK(url.host == "redis.ci");
  CHECK(url.port == 6379);
  CHECK(url.run_id == "pipeline-42.a_b");
  CHECK(url.key_prefix() == "shardrun:{pipeline-42.a_b}:");

  auto with_user = parse_queue_url("redis://ci-bot@10.0.0.7:7000/77");
  CHECK(with_user.user == "ci-bot");
  CHECK(with_user.host == "10.0.0.7");
  CHECK(with_user.port == 7000);

  auto v6 = parse_queue_url("redis://[::1]:6380/r");
  CHECK(v6.host == "::1");
  CHECK(v6.port == 6380);
}

TEST_CASE("malformed queue URLs are usage errors") {
  for (const char* bad :
       {"", "redis.ci:6379/x", "http://h:1/x", "redis://h/x", "redis://h:1", "redis://h:1/",
        "redis://:1/x", "redis://h:0/x", "redis://h:65536/x", "redis://h:12ab/x", "redis://h:1/a/b",
        "redis://h:1/a b", "redis://@h:1/x", "redis://h_1:1/x"}) {
    INFO(bad);
    CHECK_THROWS_AS(parse_queue_url(bad), UsageError);
  }
  CHECK_NOTHROW(parse_queue_url("redis://h:1/" + std::string(64, 'r')));
  CHECK_THROWS_AS(parse_queue_url("redis://h:1/" + std::string(65, 'r')), UsageError);
}

TEST_CASE("a password in the URL is refused, and the message does not repeat it") {
  try {
    parse_queue_url("redis://ci:s3cr3t-pw@redis.ci:6379/run");
    FAIL("a password in the URL was accepted");
  } catch (const UsageError& e) {
    std::string message = e.what();
    CHECK(message.find("SHARDRUN_QUEUE_PASSWORD") != std::string::npos);
    CHECK(message.find("s3cr3t-pw") == std::string::npos);
  }
  // A password alone (no user) is refused the same way.
  CHECK_THROWS_AS(parse_queue_url("redis://:pw@redis.ci:6379/run"), UsageError);
}

TEST_CASE("rediss:// is refused: hiredis 0.14 has no TLS") {
  CHECK_THROWS_WITH(parse_queue_url("rediss://redis.ci:6380/run"),
                    Catch::Contains("TLS is not supported by hiredis 0.14"));
}
