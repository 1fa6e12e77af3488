// IdentitySet: exact membership across folds of the recent table into the
// sorted vector, the hash 0, and hashes that share their top bits.
#include <cstdint>
#include <random>
#include <unordered_set>
#include <vector>

#include <catch2/catch.hpp>

#include "shardrun/junit_identity_set.hpp"

using shardrun::junit::detail::IdentitySet;

TEST_CASE("IdentitySet answers like a hash set over several folds") {
  IdentitySet set;
  std::unordered_set<std::uint64_t> truth;
  std::mt19937_64 random(7);
  // 300,000 hashes (four folds of the 65,536-entry table), every fifth one
  // a repeat of an earlier hash, some of them from before a fold.
  std::vector<std::uint64_t> inserted;
  for (int i = 0; i < 300'000; ++i) {
    std::uint64_t hash =
        (i % 5 == 4 && !inserted.empty()) ? inserted[random() % inserted.size()] : random();
    bool expected = !truth.insert(hash).second;
    REQUIRE(set.insert_or_find(hash) == expected);
    inserted.push_back(hash);
  }
  CHECK(set.size() == truth.size());
  for (std::uint64_t hash : truth) REQUIRE(set.insert_or_find(hash));
  CHECK(set.size() == truth.size());
}

TEST_CASE("IdentitySet keeps 0, all-ones and hashes with equal top bits apart") {
  IdentitySet set;
  CHECK_FALSE(set.insert_or_find(0));
  CHECK(set.insert_or_find(0));
  CHECK_FALSE(set.insert_or_find(~std::uint64_t{0}));
  // 100,000 hashes with the same top 16 bits: one directory slice, folded.
  for (std::uint64_t i = 1; i <= 100'000; ++i)
    REQUIRE_FALSE(set.insert_or_find((std::uint64_t{0xABCD} << 48) | (i * 7)));
  for (std::uint64_t i = 1; i <= 100'000; ++i)
    REQUIRE(set.insert_or_find((std::uint64_t{0xABCD} << 48) | (i * 7)));
  CHECK_FALSE(set.insert_or_find((std::uint64_t{0xABCD} << 48) | 3));
  CHECK(set.insert_or_find(~std::uint64_t{0}));
  CHECK(set.size() == 100'003);
}
