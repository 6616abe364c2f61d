#pragma once

// The one duplicate check for strings from outside (user ids, JSON keys):
// pairwise while few, hashed with a keyed hash beyond, so that its cost is
// linear in their number whatever a client sends.

#include "util/keyed_hash.hpp"

#include <algorithm>
#include <array>
#include <cstddef>
#include <memory>
#include <string_view>
#include <unordered_set>

namespace icp::detail {

/// Strings up to this many are compared pairwise: cheaper than a hash set,
/// which allocates, and most lists and objects are this short.
inline constexpr std::size_t kPairwiseCheckLimit = 16;

/// A set of views (their owner keeps the characters alive) that says
/// whether a string was added before. No allocation while it holds at most
/// kPairwiseCheckLimit; each insert costs O(1) on average beyond.
class UniqueStrings {
 public:
  UniqueStrings() = default;
  /// `expected`: how many strings are likely to come, so that a long list
  /// is hashed into a table of its size at once.
  explicit UniqueStrings(std::size_t expected) noexcept : expected_(expected) {}

  /// Adds `text`; false (and nothing added) if an equal string is there.
  [[nodiscard]] bool insert(std::string_view text) {
    if (many_) return many_->insert(text).second;
    const std::string_view* const first = few_.data();
    const std::string_view* const held = first + count_;
    if (std::find(first, held, text) != held) return false;
    if (count_ < few_.size()) {
      few_[count_++] = text;
      return true;
    }
    many_ = std::make_unique<std::unordered_set<std::string_view, KeyedHash>>();
    many_->reserve(std::max(expected_, few_.size() + 1));
    many_->insert(few_.begin(), few_.end());
    return many_->insert(text).second;
  }

 private:
  std::array<std::string_view, kPairwiseCheckLimit> few_;
  std::size_t count_ = 0;
  std::size_t expected_ = 0;
  std::unique_ptr<std::unordered_set<std::string_view, KeyedHash>> many_;
};

/// Whether any of `strings` (a range of things that convert to a view)
/// appears twice. A short range is compared pairwise where it lies, with no
/// copy: the stores' reader asks this of every ICP's user ids.
template <class Strings>
[[nodiscard]] bool has_duplicates(const Strings& strings) {
  if (std::size(strings) <= kPairwiseCheckLimit) {
    for (auto a = std::begin(strings); a != std::end(strings); ++a) {
      for (auto b = std::begin(strings); b != a; ++b) {
        if (std::string_view(*a) == std::string_view(*b)) return true;
      }
    }
    return false;
  }
  UniqueStrings seen(std::size(strings));
  return !std::ranges::all_of(
      strings, [&](const auto& text) { return seen.insert(std::string_view(text)); });
}

}  // namespace icp::detail
