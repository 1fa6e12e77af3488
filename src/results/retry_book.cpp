#include "shardrun/retry_book.hpp"

#include <fmt/format.h>

#include <cctype>

namespace shardrun::results {

std::string RetryBook::id_key(std::size_t entry, std::string_view id) {
  return fmt::format("{}\x1f{}", entry, id);
}

std::string RetryBook::case_key(std::size_t entry, std::string_view classname,
                                std::string_view name) {
  // \x1e cannot occur in sanitised XML text, so classname+name stays unambiguous.
  return fmt::format("{}\x1f{}\x1e{}", entry, classname, name);
}

void RetryBook::hold(const std::string& key, std::size_t entry, const std::string& test,
                     junit::Attempt attempt) {
  HeldTest& held = held_[key];
  held.entry = entry;
  held.test = test;
  held.attempts.push_back(std::move(attempt));
}

const HeldTest* RetryBook::find(const std::string& key) const {
  auto it = held_.find(key);
  return it == held_.end() ? nullptr : &it->second;
}

std::optional<HeldTest> RetryBook::release(const std::string& key) {
  auto it = held_.find(key);
  if (it == held_.end()) return std::nullopt;
  HeldTest held = std::move(it->second);
  held_.erase(it);
  return held;
}

std::vector<std::string> RetryBook::keys_of(std::size_t entry) const {
  std::vector<std::string> keys;
  for (const auto& [key, held] : held_)
    if (held.entry == entry) keys.push_back(key);
  return keys;
}

std::pair<std::vector<std::string>, std::vector<std::string>> split_halves(
    const std::vector<std::string>& ids) {
  const std::size_t first = (ids.size() + 1) / 2;
  return {std::vector<std::string>(ids.begin(), ids.begin() + static_cast<long>(first)),
          std::vector<std::string>(ids.begin() + static_cast<long>(first), ids.end())};
}

std::string retry_label(const std::string& label, int attempt) {
  std::string base = label;
  const std::size_t dot = base.rfind(".retry");
  if (dot != std::string::npos && dot + 6 < base.size()) {
    bool digits = true;
    for (std::size_t i = dot + 6; i < base.size(); ++i)
      digits = digits && std::isdigit(static_cast<unsigned char>(base[i]));
    if (digits) base.resize(dot);
  }
  return fmt::format("{}.retry{}", base, attempt);
}

std::string half_label(const std::string& label, int half) {
  return fmt::format("{}.{}", label, half == 0 ? 'a' : 'b');
}

}  // namespace shardrun::results
