#pragma once

// Text helpers of the HTTP layer: header names, schemes and media types
// compare case-insensitively (ASCII).

#include <algorithm>
#include <cctype>
#include <string_view>

namespace icp::detail {

inline bool equals_ignoring_case(std::string_view a, std::string_view b) {
  return std::ranges::equal(a, b, [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) ==
           std::tolower(static_cast<unsigned char>(y));
  });
}

}  // namespace icp::detail
