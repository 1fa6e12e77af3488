#pragma once
// An in-memory FILE* for the status module's tests: what a printer wrote,
// readable at any time.

#include <stdio.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace shardrun::testing {

/// An open_memstream FILE* whose contents can be read at any time.
class MemOut {
 public:
  MemOut() : file_(open_memstream(&buffer_, &size_)) { REQUIRE(file_ != nullptr); }
  ~MemOut() {
    std::fclose(file_);
    std::free(buffer_);
  }
  MemOut(const MemOut&) = delete;
  MemOut& operator=(const MemOut&) = delete;
  std::FILE* file() const { return file_; }
  std::string text() {
    std::fflush(file_);
    return std::string(buffer_, size_);
  }

 private:
  char* buffer_ = nullptr;
  std::size_t size_ = 0;
  std::FILE* file_;
};

}  // namespace shardrun::testing
