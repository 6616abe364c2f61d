#include "framing.hpp"

#include <boost/asio/error.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/url/grammar/ci_string.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <string>

namespace icp::server {

namespace {

namespace bhttp = boost::beast::http;

std::string_view trim(std::string_view text) {
  const auto first = text.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  return text.substr(first, text.find_last_not_of(" \t") - first + 1);
}

/// Transfer-Encoding: the codings of every field, in order, as one list.
std::optional<FramingError> check_transfer_encoding(const bhttp::request_header<>& header) {
  const auto [first, last] = header.equal_range(bhttp::field::transfer_encoding);
  if (first == last) return std::nullopt;
  if (header.version() < 11) {
    return FramingError{400, "Transfer-Encoding is not allowed in an HTTP/1.0 request"};
  }
  std::size_t codings = 0;
  std::size_t chunked_at = 0;
  std::size_t chunked_count = 0;
  bool unknown = false;
  for (auto field = first; field != last; ++field) {
    std::string_view list = field->value();
    while (!list.empty()) {
      const auto comma = list.find(',');
      auto element = trim(list.substr(0, comma));
      list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
      element = trim(element.substr(0, element.find(';')));
      if (element.empty()) continue;  // empty list elements are allowed
      ++codings;
      if (boost::urls::grammar::ci_is_equal(element, std::string_view("chunked"))) {
        ++chunked_count;
        chunked_at = codings;
      } else {
        unknown = true;
      }
    }
  }
  if (chunked_count == 0 || chunked_at != codings) {
    return FramingError{400,
                        "The body's length cannot be determined: chunked must be the "
                        "final transfer coding"};
  }
  if (chunked_count > 1) return FramingError{400, "chunked is applied more than once"};
  if (unknown) return FramingError{501, "Only the chunked transfer coding is supported"};
  return std::nullopt;
}

/// A host of unreserved characters and an optional port: a reg-name (RFC
/// 3986 section 3.2.2) as every client sends it, accepted without parsing
/// (docs/performance.md, "Measurements behind the code: plain host"). Anything else is parsed.
bool is_plain_host(std::string_view value) {
  const auto colon = value.find(':');
  const auto host = value.substr(0, colon);
  const auto unreserved = [](char c) {
    return boost::urls::unreserved_chars(static_cast<unsigned char>(c));
  };
  const auto digit = [](char c) { return c >= '0' && c <= '9'; };
  return !host.empty() && std::ranges::all_of(host, unreserved) &&
         (colon == std::string_view::npos || std::ranges::all_of(value.substr(colon + 1), digit));
}

std::optional<FramingError> check_host(const bhttp::request_header<>& header) {
  const auto hosts = header.count(bhttp::field::host);
  if (hosts > 1) return FramingError{400, "The request has more than one Host field"};
  if (hosts == 0) {
    if (header.version() >= 11) return FramingError{400, "An HTTP/1.1 request needs a Host field"};
    return std::nullopt;
  }
  const auto value = trim(header[bhttp::field::host]);
  if (value.empty()) return std::nullopt;  // allowed when the target has no authority
  if (is_plain_host(value)) return std::nullopt;
  const auto authority = boost::urls::parse_authority(value);
  if (!authority || authority->has_userinfo()) {
    return FramingError{400, "The Host field is not a host and port"};
  }
  return std::nullopt;
}

/// Whether a list-valued field (RFC 9110 section 5.6.1), over all its field
/// lines, has the member `wanted` (any case).
bool has_member(const bhttp::request_header<>& header, bhttp::field name, std::string_view wanted) {
  const auto [first, last] = header.equal_range(name);
  for (auto field = first; field != last; ++field) {
    std::string_view list = field->value();
    while (!list.empty()) {
      const auto comma = list.find(',');
      const auto member = trim(list.substr(0, comma));
      if (boost::urls::grammar::ci_is_equal(member, wanted)) return true;
      list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
    }
  }
  return false;
}

}  // namespace

bool wants_keep_alive(const bhttp::request_header<>& header) {
  if (has_member(header, bhttp::field::connection, "close")) return false;
  return header.version() >= 11 || has_member(header, bhttp::field::connection, "keep-alive");
}

bool expects_continue(const bhttp::request_header<>& header) {
  return header.version() >= 11 && has_member(header, bhttp::field::expect, "100-continue");
}

std::optional<FramingError> check_framing(const bhttp::request_header<>& header) {
  if (auto error = check_transfer_encoding(header)) return error;
  return check_host(header);
}

http::Response framing_response(const FramingError& error) {
  return http::error_response(static_cast<int>(error.status),
                              error.status == 501 ? "NOT_IMPLEMENTED" : "BAD_REQUEST",
                              error.message);
}

std::optional<http::Response> read_error_response(boost::beast::error_code ec,
                                                  std::size_t max_body_bytes) {
  namespace asio = boost::asio;
  namespace beast = boost::beast;
  namespace bhttp = beast::http;
  if (ec == bhttp::error::end_of_stream || ec == beast::error::timeout ||
      ec == asio::error::operation_aborted || ec == asio::error::connection_reset ||
      ec == asio::error::eof || ec == asio::error::bad_descriptor) {
    return std::nullopt;  // gone, or too slow: a timeout has already closed the socket
  }
  if (ec == bhttp::error::body_limit) {
    return http::error_response(413, "PAYLOAD_TOO_LARGE",
                                fmt::format("The body is larger than {} bytes", max_body_bytes));
  }
  if (ec == bhttp::error::header_limit || ec == bhttp::error::buffer_overflow) {
    return http::error_response(431, "BAD_REQUEST", "The request headers are too large");
  }
  return http::error_response(400, "BAD_REQUEST", "Malformed HTTP request");
}

http::Response request_timeout_response() {
  return http::error_response(408, "REQUEST_TIMEOUT", "The request did not arrive in time");
}

}  // namespace icp::server
