#pragma once

// An HTTP exchange as the adapter sees it, whatever the transport: a request
// is (method, target, headers, body), a response is (status, headers, body).

#include <icp/error.hpp>
#include <icp/http_export.hpp>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace icp::http {

/// One request as the transport received it. Views: they must outlive handle().
struct ICP_HTTP_EXPORT Request {
  std::string_view method;  ///< "GET", "POST", ... (case-sensitive, as HTTP says)
  /// Origin form (path and query, still percent-encoded) or absolute form
  /// (`http://host/path?query`, RFC 9112 section 3.2.2).
  std::string_view target;
  /// Every header field in the order received; names in any case. Repeated
  /// fields stay separate entries.
  std::vector<std::pair<std::string_view, std::string_view>> headers;
  std::string_view body;  ///< the complete body; empty when there is none

  /// The values of the header `name` (case-insensitive), in order.
  [[nodiscard]] std::vector<std::string_view> header_values(std::string_view name) const;
};

/// The answer for the transport to send. For HEAD it holds GET's body, which
/// the transport must not send.
struct ICP_HTTP_EXPORT Response {
  /// The HTTP status code.
  int status = 200;
  /// The header fields to send, in order.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;  ///< empty for 204

  /// The first value of the header `name` (case-insensitive), or empty.
  [[nodiscard]] std::string_view header(std::string_view name) const;
};

/// What `Retry-After` says on a 503: the store is usually back within a
/// second (a PostgreSQL restart, a lock released); clients back off further.
inline constexpr int kRetryAfterSeconds = 1;

/// The response for an Error: its status, the API's error body,
/// `WWW-Authenticate: Bearer` for 401 and `Retry-After` for 503.
[[nodiscard]] ICP_HTTP_EXPORT Response error_response(const Error& error);

/// An error the transport answers itself, in the API's error body
/// (`{"error":{"code":...,"message":...}}`, escaped): for statuses with no
/// Errc, such as 405 `METHOD_NOT_ALLOWED`, 408 `REQUEST_TIMEOUT`, 413
/// `PAYLOAD_TOO_LARGE`, 431 or 501 `NOT_IMPLEMENTED`.
[[nodiscard]] ICP_HTTP_EXPORT Response error_response(int status, std::string_view code,
                                                      std::string_view message);

}  // namespace icp::http
