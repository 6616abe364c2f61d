#pragma once

// The value rules both JSON readers apply (json.cpp for any text, and
// stored_icp.cpp for the stores' own documents), kept in one place so that
// the two cannot drift apart.

#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string_view>
#include <unordered_set>

#include "keyed_hash.hpp"

namespace icp::detail {

inline constexpr std::array<std::string_view, 2> kCriterionTypes{"person", "company"};

/// Custom filter types whose value must be an integer in [0, kMaxFilterInteger].
inline constexpr std::array<std::string_view, 2> kIntegerFilterTypes{"maxPeoplePerCompany",
                                                                     "minDaysUntilReuse"};
inline constexpr std::int64_t kMaxFilterInteger = std::int64_t{1} << 53;

inline constexpr std::int64_t kMinLeadsPerList = 1;
inline constexpr std::int64_t kMaxLeadsPerList = std::numeric_limits<std::int32_t>::max();

[[nodiscard]] constexpr bool is_criterion_type(std::string_view type) noexcept {
  return type == kCriterionTypes[0] || type == kCriterionTypes[1];
}

[[nodiscard]] constexpr bool is_integer_filter_type(std::string_view type) noexcept {
  return type == kIntegerFilterTypes[0] || type == kIntegerFilterTypes[1];
}

/// Every custom filter value lies within +-2^53, where a double holds every
/// integer exactly (JavaScript's safe range): beyond it a value would be
/// stored rounded.
inline constexpr double kMaxFilterMagnitude = 9007199254740992.0;  // 2^53

[[nodiscard]] inline bool is_filter_magnitude(double number) noexcept {
  return std::abs(number) <= kMaxFilterMagnitude;
}

/// Whether `number` is an integer in [min, max]: integral doubles (`25.0`)
/// count, as in JavaScript.
[[nodiscard]] inline bool is_integer_in(double number, std::int64_t min,
                                        std::int64_t max) noexcept {
  return number == std::floor(number) && number >= static_cast<double>(min) &&
         number <= static_cast<double>(max);
}

/// Lists (and objects' keys) up to this long are checked pairwise: cheaper than a hash
/// set, which costs allocations on every stored read.
inline constexpr std::size_t kPairwiseCheckLimit = 16;

/// Whether any of `strings` appears twice: hashed (keyed, see keyed_hash.hpp)
/// beyond a few, so linear in their number (an ICP may list thousands of user ids).
template <class Strings>
[[nodiscard]] bool has_duplicates(const Strings& strings) {
  if (strings.size() <= kPairwiseCheckLimit) {
    for (auto a = strings.begin(); a != strings.end(); ++a) {
      for (auto b = strings.begin(); b != a; ++b) {
        if (*a == *b) return true;
      }
    }
    return false;
  }
  std::unordered_set<std::string_view, KeyedHash> seen;
  seen.reserve(strings.size());
  for (const auto& string : strings) {
    if (!seen.insert(std::string_view(string)).second) return true;
  }
  return false;
}

}  // namespace icp::detail
