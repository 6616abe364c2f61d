#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace icp::detail {

/// Strict unpadded base64url (RFC 7515 section 2): the alphabet only, no
/// padding, no whitespace, unused trailing bits zero. Written here because
/// OpenSSL's decoder takes standard base64 with padding and skips whitespace.
/// Decodes into `out` from offset `at` on, growing it as needed; returns the
/// decoded bytes, a view into `out`.
[[nodiscard]] std::optional<std::string_view> decode_base64url(std::string_view text,
                                                               std::string& out, std::size_t at);

}  // namespace icp::detail
