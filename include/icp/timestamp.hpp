#pragma once

// Timestamps: UTC milliseconds inside, RFC 3339 on input, one fixed form out.

#include <icp/core_export.hpp>
#include <icp/error.hpp>

#include <chrono>
#include <string>
#include <string_view>

namespace icp {

/// A point in time, UTC, with millisecond precision (the wire's precision).
using Timestamp = std::chrono::sys_time<std::chrono::milliseconds>;

/// Parses an RFC 3339 date-time (`2024-01-15T10:30:00Z`,
/// `2024-01-15T12:30:00.123456+02:00`): any fraction length (truncated to
/// milliseconds), `Z` or a numeric offset, normalised to UTC. Impossible dates,
/// leap seconds and a missing offset are `bad_request`.
[[nodiscard]] ICP_CORE_EXPORT Result<Timestamp> parse_timestamp(std::string_view text);

/// Formats as `YYYY-MM-DDTHH:MM:SS.mmmZ`, the only form the wire carries.
/// Years outside 0000-9999 cannot be written and are clamped by the parser's
/// range: every Timestamp that parse_timestamp returns formats exactly.
[[nodiscard]] ICP_CORE_EXPORT std::string format_timestamp(Timestamp at);

/// Appends the format_timestamp form to `out` without a temporary string.
ICP_CORE_EXPORT void append_timestamp(std::string& out, Timestamp at);

}  // namespace icp
