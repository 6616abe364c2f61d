#pragma once

// JSON entry points for the stores, not part of the public API.

#include <icp/error.hpp>
#include <icp/model.hpp>

#include <string_view>

namespace icp::detail {

/// parse_icp for documents this library wrote itself: skips the scan for
/// duplicate keys, which its own writer never produces (the hot path of every
/// SQLite get).
[[nodiscard]] Result<Icp> parse_stored_icp(std::string_view text);

/// An error body with any code, for errors that have no Errc (HTTP's 405,
/// 413, 415).
[[nodiscard]] std::string error_body(std::string_view code, std::string_view message,
                                     const std::vector<ErrorDetail>& details = {});

/// The `bad_request` for a body with these problems (at least one): the
/// message names the first and counts the rest.
[[nodiscard]] Error invalid_icp(std::vector<ErrorDetail> details);

}  // namespace icp::detail
