#pragma once

// JSON equality by meaning, not by text.

#include <boost/json/value.hpp>

namespace icp::detail {

/// How same_json compares two doubles.
enum class Doubles {
  exact,  ///< equal values only: OpaqueJson's operator==, which must be transitive
  /// Also one unit in the last place apart: Boost.JSON 1.81 may read a double
  /// back that far from where it was. For tests of round trips, never a model.
  within_one_ulp,
};

/// JSON equality: object keys in any order, numbers by value whatever their
/// kind (1 equals 1.0), doubles as `doubles` says.
[[nodiscard]] bool same_json(const boost::json::value& a, const boost::json::value& b,
                             Doubles doubles = Doubles::exact) noexcept;

}  // namespace icp::detail
