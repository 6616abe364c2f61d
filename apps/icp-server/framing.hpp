#pragma once

// What RFC 9112 makes a server check in a request's header before it trusts
// the framing: the body's length, and Host. Beast parses the syntax; these
// are the rules it leaves to the server.

#include <boost/beast/http/fields.hpp>
#include <boost/beast/http/message.hpp>

#include <optional>
#include <string_view>

namespace icp::server {

/// A request refused for its framing: always answered, then the connection
/// closes (its body's length is unknown, so the next request is too).
struct FramingError {
  unsigned status;  ///< 400 or 501
  std::string_view message;
};

/// nullopt when the header may be served:
/// - Transfer-Encoding whose final coding is not `chunked`, `chunked` more
///   than once, or any Transfer-Encoding in HTTP/1.0: 400 (section 6.1, 6.3);
///   another coding before `chunked` (`gzip, chunked`): 501, we decode none.
/// - HTTP/1.1 without Host, any request with more than one Host, or a Host
///   that is not `uri-host [":" port]`: 400 (section 3.2).
[[nodiscard]] std::optional<FramingError> check_framing(
    const boost::beast::http::request_header<>& header);

}  // namespace icp::server
