#pragma once

// The value rules both ICP readers apply (icp_reader.cpp for any text,
// stored_icp_reader.cpp for the stores' own documents), in one place so
// that the two cannot drift apart.

#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string_view>

namespace icp::detail {

inline constexpr std::array<std::string_view, 2> kCriterionTypes{"person", "company"};

/// Custom filter types whose value must be an integer in [0, kMaxFilterInteger].
inline constexpr std::array<std::string_view, 2> kIntegerFilterTypes{"maxPeoplePerCompany",
                                                                     "minDaysUntilReuse"};

/// 2^53: every custom filter value lies within +-2^53, where a double holds
/// every integer exactly (JavaScript's safe range); beyond it a value would
/// be stored rounded.
inline constexpr std::int64_t kMaxFilterInteger = std::int64_t{1} << 53;
inline constexpr auto kMaxFilterMagnitude = static_cast<double>(kMaxFilterInteger);

inline constexpr std::int64_t kMinLeadsPerList = 1;
inline constexpr std::int64_t kMaxLeadsPerList = std::numeric_limits<std::int32_t>::max();

[[nodiscard]] constexpr bool is_criterion_type(std::string_view type) noexcept {
  return type == kCriterionTypes[0] || type == kCriterionTypes[1];
}

[[nodiscard]] constexpr bool is_integer_filter_type(std::string_view type) noexcept {
  return type == kIntegerFilterTypes[0] || type == kIntegerFilterTypes[1];
}

/// The range rule for a custom filter value written as an integer: checked
/// as written, before any rounding to a double.
[[nodiscard]] constexpr bool is_exact_filter_value(std::int64_t value) noexcept {
  return value >= -kMaxFilterInteger && value <= kMaxFilterInteger;
}
[[nodiscard]] constexpr bool is_exact_filter_value(std::uint64_t value) noexcept {
  return value <= static_cast<std::uint64_t>(kMaxFilterInteger);
}
/// The rule for a value written with a fraction or exponent: strictly inside,
/// since a double at 2^53 may be 2^53 + 1 rounded (only integers reach it).
[[nodiscard]] inline bool is_exact_filter_value(double value) noexcept {
  return std::abs(value) < kMaxFilterMagnitude;
}

/// Whether `number` is an integer in [min, max]: integral doubles (`25.0`)
/// count, as in JavaScript.
[[nodiscard]] inline bool is_integer_in(double number, std::int64_t min,
                                        std::int64_t max) noexcept {
  return number == std::floor(number) && number >= static_cast<double>(min) &&
         number <= static_cast<double>(max);
}

}  // namespace icp::detail
