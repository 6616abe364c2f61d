#pragma once

// What RFC 9112 makes a server check in a request's header before it trusts
// the framing: the body's length, and Host. Beast parses the syntax; these
// are the rules it leaves to the server. And the answers to a request that
// could not be read.

#include <icp/http/message.hpp>

#include <boost/beast/core/error.hpp>
#include <boost/beast/http/fields.hpp>
#include <boost/beast/http/message.hpp>

#include <cstddef>
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

/// Whether the connection may serve another request after this one (RFC
/// 9112 section 9.3): `close` in any Connection field ends it; HTTP/1.1
/// persists otherwise, HTTP/1.0 only with `keep-alive`. Every Connection
/// field is read, as one list (RFC 9110 section 5.3): Beast reads the first.
[[nodiscard]] bool wants_keep_alive(const boost::beast::http::request_header<>& header);

/// Whether the client waits for 100 Continue before sending its content
/// (RFC 9110 section 10.1.1): `100-continue` among the members of its
/// Expect fields, in an HTTP/1.1 request (HTTP/1.0's is ignored).
[[nodiscard]] bool expects_continue(const boost::beast::http::request_header<>& header);

/// The answer to a request refused for its framing.
[[nodiscard]] http::Response framing_response(const FramingError& error);

/// The answer to a request whose reading failed with `ec` (other than by
/// its deadline): 413 past `max_body_bytes`, 431 for a header too large,
/// else 400; nullopt when the client is gone (or the socket already
/// closed), and the connection just closes.
[[nodiscard]] std::optional<http::Response> read_error_response(boost::beast::error_code ec,
                                                                std::size_t max_body_bytes);

/// The 408 for part of a request that did not arrive in time (RFC 9110
/// section 15.5.9); silence gets no answer.
[[nodiscard]] http::Response request_timeout_response();

}  // namespace icp::server
