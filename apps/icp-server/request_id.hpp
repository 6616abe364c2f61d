#pragma once

// Request ids: the client's X-Request-Id when it is safe to log and echo,
// else one of ours, so that a log line and a client's report can be matched.

#include <string>
#include <string_view>

namespace icp::server {

/// The longest client-chosen request id kept.
inline constexpr std::size_t kMaxRequestIdBytes = 128;

/// True for 1 to kMaxRequestIdBytes characters of `A-Za-z0-9._:+/=-`: what
/// UUIDs, ULIDs, trace ids and base64 ids use, and nothing that could break
/// a log line or a header.
[[nodiscard]] bool is_valid_request_id(std::string_view id) noexcept;

/// A new id: 32 lower-case hex digits, random (not a secret, only unique).
[[nodiscard]] std::string new_request_id();

}  // namespace icp::server
