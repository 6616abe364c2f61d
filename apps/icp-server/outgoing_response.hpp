#pragma once

// An answer as icp-server sends it: the status line and header fields,
// written here, then the body, in one gather write.

#include <boost/asio/buffer.hpp>

#include <array>
#include <string>
#include <string_view>

namespace icp::server {

/// Written by hand rather than with Beast's response and serializer: those
/// allocate every field separately and run a serializer built for any body,
/// a measurable share of a GET (docs/performance.md, "Measurements behind
/// the code: outgoing response"). Beast still parses every request. Reused
/// across a connection's answers, so its buffers are allocated once.
class OutgoingResponse {
 public:
  /// Adds a header field. One whose name is not an RFC 9110 token or whose
  /// value holds CR, LF or NUL is dropped: no field can split a response.
  void set(std::string_view name, std::string_view value);

  /// Whether a field named `name` (any case) was set.
  [[nodiscard]] bool has(std::string_view name) const;

  /// Completes the answer: the status line, Content-Length (none for 1xx,
  /// 204 and 304, RFC 9110 section 8.6, nor a body), `Connection: close`
  /// unless `keep_alive`. `omit_body` (HEAD): the head GET would have, no body.
  void finish(unsigned status, std::string body, bool keep_alive, bool omit_body);

  /// The bytes to send, after finish().
  [[nodiscard]] std::array<boost::asio::const_buffer, 2> buffers() const {
    return {boost::asio::buffer(head_), boost::asio::buffer(body_)};
  }

  [[nodiscard]] unsigned status() const { return status_; }
  /// Bytes of body sent (0 for HEAD).
  [[nodiscard]] std::size_t body_bytes() const { return body_.size(); }

  /// Empties it for the next answer, keeping its buffers.
  void clear();

 private:
  std::string fields_;  ///< "Name: value\r\n" lines, as set
  std::string head_;    ///< what finish() wrote
  std::string body_;
  unsigned status_ = 0;
};

}  // namespace icp::server
