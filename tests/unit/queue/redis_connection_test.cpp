// RedisConnection against a real redis-server: replies, errors, AUTH.
#include <catch2/catch.hpp>

#include "redis_server.hpp"
#include "shardrun/queue.hpp"

using shardrun::QueueError;
using shardrun::RedisConnection;
using shardrun::RedisReply;
using shardrun::testing::RedisServer;

TEST_CASE("replies come back as owned values; arguments are binary-safe") {
  RedisServer server;
  RedisConnection redis(server.url(), std::nullopt);
  std::string binary("a\0b\r\n c", 7);
  CHECK(redis.command({"SET", "k", binary}).str == "OK");
  RedisReply got = redis.command({"GET", "k"});
  CHECK(got.kind == RedisReply::Kind::kString);
  CHECK(got.str == binary);
  CHECK(redis.command({"GET", "missing"}).is_nil());
  RedisReply n = redis.command({"INCRBY", "n", "41"});
  CHECK(n.kind == RedisReply::Kind::kInteger);
  CHECK(n.integer == 41);
  redis.command({"RPUSH", "l", "x", "", "z"});
  RedisReply list = redis.command({"LRANGE", "l", "0", "-1"});
  REQUIRE(list.kind == RedisReply::Kind::kArray);
  REQUIRE(list.elements.size() == 3);
  CHECK(list.elements[1].str.empty());
  CHECK(list.elements[2].str == "z");
}

TEST_CASE("an error reply throws with the server's text") {
  RedisServer server;
  RedisConnection redis(server.url(), std::nullopt);
  redis.command({"SET", "k", "v"});
  CHECK_THROWS_WITH(redis.command({"INCR", "k"}),
                    Catch::Contains("INCR") && Catch::Contains("not an integer"));
  // The connection is still usable after an error reply.
  CHECK(redis.command({"GET", "k"}).str == "v");
}

TEST_CASE("no server: connecting throws a QueueError") {
  int port = 0;
  {
    RedisServer server;
    port = server.port();
  }  // stopped: nothing listens there now
  auto url = shardrun::parse_queue_url("redis://127.0.0.1:" + std::to_string(port) + "/r");
  CHECK_THROWS_AS(RedisConnection(url, std::nullopt, std::chrono::milliseconds(500)), QueueError);
}

TEST_CASE("AUTH: NOAUTH without the password, success with it, the secret in no message") {
  const std::string secret = "pw-Xy7!q";
  RedisServer server(secret);

  RedisConnection anonymous(server.url(), std::nullopt);
  CHECK_THROWS_WITH(anonymous.command({"GET", "k"}), Catch::Contains("NOAUTH"));

  try {
    RedisConnection wrong(server.url(), std::string("not-") + secret);
    FAIL("a wrong password was accepted");
  } catch (const QueueError& e) {
    std::string message = e.what();
    CHECK(message.find("WRONGPASS") != std::string::npos);
    CHECK(message.find(secret) == std::string::npos);
  }

  RedisConnection authed(server.url(), secret);
  CHECK(authed.command({"SET", "k", "v"}).str == "OK");
  CHECK(authed.command({"GET", "k"}).str == "v");
}

TEST_CASE("AUTH with an ACL user from the URL") {
  RedisServer server(std::string("admin-pw"));
  RedisConnection admin(server.url(), std::string("admin-pw"));
  admin.command({"ACL", "SETUSER", "ci", "on", ">ci-pw", "~*", "+@all"});

  CHECK(
      RedisConnection(server.url("r", "ci"), std::string("ci-pw")).command({"ACL", "WHOAMI"}).str ==
      "ci");
  CHECK_THROWS_WITH(RedisConnection(server.url("r", "ci"), std::string("admin-pw")),
                    Catch::Contains("WRONGPASS") && !Catch::Contains("admin-pw"));
  // A user without a password is a usage error, before any connection.
  CHECK_THROWS_AS(RedisConnection(server.url("r", "ci"), std::nullopt), shardrun::UsageError);
}
