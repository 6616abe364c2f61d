#pragma once

// JSON entry points for the stores, not part of the public API. Those marked
// ICP_CORE_EXPORT are called from icp's other libraries (the stores, the
// adapter, Clerk), so a shared icp_core exports them; they carry no promise.

#include <icp/core_export.hpp>
#include <icp/error.hpp>
#include <icp/model.hpp>

#include <boost/json/storage_ptr.hpp>
#include <boost/json/value.hpp>

#include <optional>
#include <string_view>

namespace icp::detail {

/// parse_icp for documents this library wrote itself (the hot path of every
/// store read): read_stored_icp first, else the general reader.
[[nodiscard]] ICP_CORE_EXPORT Result<Icp> parse_stored_icp(std::string_view text);

/// parse_icp, but a string holding U+0000 is read rather than refused: the
/// general reader of the stores' own documents, which may predate that rule.
[[nodiscard]] ICP_CORE_EXPORT Result<Icp> parse_icp_keeping_nul(std::string_view text);

/// Reads a document in exactly to_json's layout (keys in its order, no
/// whitespace) without building a JSON tree; opaque parts keep their text and
/// are parsed only when looked at. Anything else is nullopt, never an error:
/// it accepts only what the general reader accepts, as the same ICP (custom
/// filter values are read exactly, where Boost.JSON 1.81 may land one unit in
/// the last place away).
[[nodiscard]] std::optional<Icp> read_stored_icp(std::string_view text);

/// parse_json into a caller's memory resource (e.g. a monotonic buffer on
/// the stack), with the same checks: duplicate keys, numbers out of range.
[[nodiscard]] ICP_CORE_EXPORT Result<boost::json::value> parse_json(
    std::string_view text, boost::json::storage_ptr storage);

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

/// An error body with any code, for errors that have no Errc (HTTP's 405,
/// 413, 415).
[[nodiscard]] ICP_CORE_EXPORT std::string error_body(std::string_view code,
                                                     std::string_view message,
                                                     const std::vector<ErrorDetail>& details = {});

/// The `bad_request` for a body with these problems (at least one): the
/// message names the first and counts the rest.
[[nodiscard]] Error invalid_icp(std::vector<ErrorDetail> details);

}  // namespace icp::detail
