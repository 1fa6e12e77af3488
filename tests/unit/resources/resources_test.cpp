#include "shardrun/resources.hpp"

#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <fstream>
#include <set>
#include <thread>
#include <vector>

#include "../temp_dir.hpp"
#include "shardrun/error.hpp"

using namespace shardrun;
using shardrun::testing::TempDir;

TEST_CASE("search_path_option quotes the schema and escapes spaces for libpq") {
  CHECK(search_path_option("app_test_3") == "-c search_path=\"app_test_3\"");
  // Case kept, quotes doubled, spaces and backslashes escaped.
  CHECK(search_path_option("Weird \"Name\"_0") == "-c search_path=\"Weird\\ \"\"Name\"\"_0\"");
  CHECK(search_path_option("a\\b") == "-c search_path=\"a\\\\b\"");
}

TEST_CASE("postgres_url percent-encodes every part") {
  CHECK(postgres_url("127.0.0.1", "5432", "app", "", "db_1", "") ==
        "postgresql://app@127.0.0.1:5432/db_1");
  CHECK(
      postgres_url("/var/run/postgresql", "5432", "u", "p@ss:w/rd", "d", "-c search_path=\"s\"") ==
      "postgresql://u:p%40ss%3Aw%2Frd@%2Fvar%2Frun%2Fpostgresql:5432/d"
      "?options=-c%20search_path%3D%22s%22");
}

TEST_CASE("ports are unique while held, within one process and across lock holders") {
  TempDir dir;
  std::vector<PortLease> leases;
  std::set<int> ports;
  for (int i = 0; i < 6; ++i) {
    leases.push_back(PortLease::acquire(dir.path(), 31200, 31205));
    ports.insert(leases.back().port());
  }
  CHECK(ports.size() == 6);  // the whole range, each port once
  CHECK_THROWS_WITH(PortLease::acquire(dir.path(), 31200, 31205),
                    "no free TCP port between 31200 and 31205");
  int freed = leases.front().port();
  leases.erase(leases.begin());  // dropping a lease frees its port
  CHECK(PortLease::acquire(dir.path(), 31200, 31205).port() == freed);
}

TEST_CASE("a port some other program listens on is skipped") {
  TempDir dir;
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(31210);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  REQUIRE(::listen(fd, 1) == 0);
  for (int i = 0; i < 5; ++i) CHECK(PortLease::acquire(dir.path(), 31210, 31211).port() == 31211);
  ::close(fd);
}

TEST_CASE("SHARDRUN_PORT_RANGE is read and checked") {
  ::setenv("SHARDRUN_PORT_RANGE", "30000-30010", 1);
  CHECK(default_port_range() == std::pair{30000, 30010});
  ::setenv("SHARDRUN_PORT_RANGE", "30010-30000", 1);
  CHECK_THROWS_AS(default_port_range(), Error);
  ::setenv("SHARDRUN_PORT_RANGE", "30000", 1);
  CHECK_THROWS_AS(default_port_range(), Error);
  ::unsetenv("SHARDRUN_PORT_RANGE");
  CHECK(default_port_range() == std::pair{20000, 32000});
}

TEST_CASE("probes: tcp sees a listener, log sees a line, none is always ready") {
  TempDir dir;
  std::string detail;
  ReadyProbe tcp{ReadyProbe::Kind::kTcp, "127.0.0.1:31220"};
  CHECK_FALSE(probe_ready(tcp, {}, &detail));
  CHECK(detail == "127.0.0.1:31220: Connection refused");

  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(31220);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  REQUIRE(::listen(fd, 4) == 0);
  CHECK(probe_ready(tcp, {}, &detail));
  // A listener that never answers HTTP is not ready for an http probe.
  ReadyProbe http{ReadyProbe::Kind::kHttp, "http://127.0.0.1:31220/status"};
  CHECK_FALSE(probe_ready(http, {}, &detail));
  CHECK(detail == "http://127.0.0.1:31220/status: no HTTP answer");
  ::close(fd);

  std::filesystem::path log = dir.path() / "service.log";
  ReadyProbe line{ReadyProbe::Kind::kLog, R"(listening on \d+)"};
  std::ofstream(log) << "starting\n";
  CHECK_FALSE(probe_ready(line, log, &detail));
  std::ofstream(log, std::ios::app) << "listening on 8080\n";
  CHECK(probe_ready(line, log, &detail));
  CHECK(probe_ready(ReadyProbe{}, log, &detail));
}

TEST_CASE("the http probe speaks HTTP/1.1 (chromedriver ignores 1.0) and wants a 2xx") {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(31230);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  REQUIRE(::listen(fd, 4) == 0);
  // Answers like chromedriver: nothing to HTTP/1.0, 200 to /status, 503 elsewhere.
  std::thread server([fd] {
    for (int i = 0; i < 2; ++i) {
      int conn = ::accept(fd, nullptr, nullptr);
      char buf[1024] = {};
      ssize_t n = ::recv(conn, buf, sizeof buf - 1, 0);
      std::string request(buf, n > 0 ? static_cast<std::size_t>(n) : 0);
      std::string line = request.substr(0, request.find('\r'));
      if (line.find("HTTP/1.1") != std::string::npos) {
        std::string answer = line.find("/status") != std::string::npos
                                 ? "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
                                 : "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n";
        ::send(conn, answer.data(), answer.size(), 0);
      }
      ::close(conn);
    }
  });
  std::string detail;
  CHECK(probe_ready({ReadyProbe::Kind::kHttp, "http://127.0.0.1:31230/status"}, {}, &detail));
  CHECK_FALSE(probe_ready({ReadyProbe::Kind::kHttp, "http://127.0.0.1:31230/other"}, {}, &detail));
  CHECK(detail == "http://127.0.0.1:31230/other: answered 503");
  server.join();
  ::close(fd);
}
