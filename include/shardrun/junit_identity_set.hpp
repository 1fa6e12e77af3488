#pragma once
// The testcase identities a merge has written (DESIGN §8 rule 10), as 64-bit
// hashes: a set that costs about 8 bytes an identity and a few cache misses a
// lookup, for reports of millions of testcases.
//
// Recent hashes go into a small open-addressing table; when it is half full
// they are sorted and merged into one sorted vector, behind a directory of
// where each value of a hash's top 16 bits starts. A lookup probes the table
// and then binary-searches only the directory's slice (a handful of entries
// at a million hashes), where a plain binary search of the vector took a
// quarter of a merge's time and a std::unordered_set of them all ~50 bytes
// an identity.

#include <cstdint>
#include <vector>

namespace shardrun::junit::detail {

/// A growable array of hashes in its own memory mapping: growing it moves
/// page tables (mremap), never copies, so a million hashes cost 8 MB and not
/// 8 MB + the 4 MB they were copied from (the peak of a std::vector).
class HashArray {
 public:
  HashArray() = default;
  ~HashArray();
  HashArray(const HashArray&) = delete;
  HashArray& operator=(const HashArray&) = delete;

  std::uint64_t* data() { return data_; }
  const std::uint64_t* data() const { return data_; }
  std::size_t size() const { return size_; }
  /// Grows (or shrinks) to `size`; new entries are zero. Throws
  /// std::bad_alloc when the memory cannot be mapped.
  void resize(std::size_t size);

 private:
  std::uint64_t* data_ = nullptr;
  std::size_t size_ = 0;
  std::size_t mapped_ = 0;  // bytes
};

class IdentitySet {
 public:
  IdentitySet();

  /// Whether `hash` was inserted before; inserts it if not.
  bool insert_or_find(std::uint64_t hash);

  std::size_t size() const { return sorted_.size() + recent_count_ + (zero_seen_ ? 1 : 0); }

 private:
  bool in_sorted(std::uint64_t hash) const;
  void fold_recent();

  static constexpr int kRecentBits = 17;  // 2^17 slots, folded at 2^16 entries
  std::vector<std::uint64_t> recent_;     // 0 = empty slot
  std::size_t recent_count_ = 0;
  bool zero_seen_ = false;  // the one hash the table cannot hold
  HashArray sorted_;
  std::vector<std::uint32_t> directory_;  // 2^16 + 1 starts in sorted_
};

}  // namespace shardrun::junit::detail
