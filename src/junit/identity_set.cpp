#include "shardrun/junit_identity_set.hpp"

#include <sys/mman.h>

#include <algorithm>
#include <new>
#include <utility>

namespace shardrun::junit::detail {

namespace {

constexpr int kDirectoryBits = 16;

// The slot of a hash in the recent table: Fibonacci hashing, because the
// low bits of the FNV-1a hashes this holds are their weakest.
std::size_t recent_slot(std::uint64_t hash, int bits) {
  return static_cast<std::size_t>((hash * 0x9E3779B97F4A7C15ull) >> (64 - bits));
}

std::size_t top_bits(std::uint64_t hash) {
  return static_cast<std::size_t>(hash >> (64 - kDirectoryBits));
}

}  // namespace

HashArray::~HashArray() {
  if (data_ != nullptr) ::munmap(data_, mapped_);
}

void HashArray::resize(std::size_t size) {
  const std::size_t page = 4096;
  std::size_t need =
      (std::max<std::size_t>(size, 1) * sizeof(std::uint64_t) + page - 1) / page * page;
  if (need > mapped_) {
    // Twice what is needed: fewer remaps; pages not written are not resident.
    std::size_t bytes = std::max(need, mapped_ * 2);
    void* p = data_ == nullptr ? ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE,
                                        MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
                               : ::mremap(data_, mapped_, bytes, MREMAP_MAYMOVE);
    if (p == MAP_FAILED) throw std::bad_alloc();
    data_ = static_cast<std::uint64_t*>(p);
    mapped_ = bytes;
  }
  size_ = size;
}

IdentitySet::IdentitySet()
    : recent_(std::size_t{1} << kRecentBits, 0),
      directory_((std::size_t{1} << kDirectoryBits) + 1, 0) {}

bool IdentitySet::insert_or_find(std::uint64_t hash) {
  if (hash == 0) return std::exchange(zero_seen_, true);
  if (in_sorted(hash)) return true;
  const std::size_t mask = recent_.size() - 1;
  std::size_t slot = recent_slot(hash, kRecentBits);
  for (; recent_[slot] != 0; slot = (slot + 1) & mask) {
    if (recent_[slot] == hash) return true;
  }
  recent_[slot] = hash;
  if (++recent_count_ >= recent_.size() / 2) fold_recent();
  return false;
}

bool IdentitySet::in_sorted(std::uint64_t hash) const {
  const std::size_t top = top_bits(hash);
  const std::uint64_t* first = sorted_.data() + directory_[top];
  const std::uint64_t* last = sorted_.data() + directory_[top + 1];
  // A slice holds a handful of hashes (size / 65536): a scan of one or two
  // cache lines beats a binary search's unpredictable branches. Long slices
  // (millions of identities) are searched.
  if (last - first > 32) return std::binary_search(first, last, hash);
  for (; first != last && *first < hash; ++first) {
  }
  return first != last && *first == hash;
}

// The recent hashes, sorted, merged into sorted_ from the back (no second
// buffer: a report's peak memory is this vector), then the directory again.
void IdentitySet::fold_recent() {
  std::vector<std::uint64_t> batch;
  batch.reserve(recent_count_);
  for (std::uint64_t& slot : recent_) {
    if (slot != 0) batch.push_back(slot);
    slot = 0;
  }
  recent_count_ = 0;
  std::sort(batch.begin(), batch.end());
  std::size_t old_size = sorted_.size();
  sorted_.resize(old_size + batch.size());
  std::uint64_t* sorted = sorted_.data();
  std::size_t out = sorted_.size();
  std::size_t a = old_size;
  std::size_t b = batch.size();
  while (b > 0) {
    if (a > 0 && sorted[a - 1] > batch[b - 1]) {
      sorted[--out] = sorted[--a];
    } else {
      sorted[--out] = batch[--b];
    }
  }
  std::size_t index = 0;
  for (std::size_t top = 0; top < directory_.size(); ++top) {
    while (index < sorted_.size() && top_bits(sorted[index]) < top) ++index;
    directory_[top] = static_cast<std::uint32_t>(index);
  }
}

}  // namespace shardrun::junit::detail
