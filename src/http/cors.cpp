#include "http/cors.hpp"

#include "util/ascii.hpp"

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <charconv>

namespace icp::detail {

namespace {

/// How long a browser may cache a preflight's answer, in seconds.
constexpr std::string_view kPreflightMaxAge = "600";

/// Why `origin` (already parsed as an absolute URI) is not an origin a
/// browser sends, or nullopt.
std::optional<std::string_view> origin_problem(const boost::urls::url_view& url) {
  const auto scheme = url.scheme();
  if (scheme != "http" && scheme != "https") {
    return std::ranges::any_of(scheme, [](char c) { return c >= 'A' && c <= 'Z'; })
               ? "is not lower-case"
               : "is neither http nor https";
  }
  if (!url.has_authority()) return "has no //host";
  if (url.has_userinfo()) return "holds a user (user@host)";
  const auto host = url.encoded_host();
  if (host.empty()) return "has no host";
  if (host.find('*') != std::string_view::npos) {
    return "holds a wildcard (list each origin, or give * alone)";
  }
  if (std::ranges::any_of(host, [](char c) { return c >= 'A' && c <= 'Z'; })) {
    return "is not lower-case";
  }
  // A DNS name (letters, digits, '-', '.', '_'), IPv4, or an IPv6 literal.
  const auto name_char = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_';
  };
  if (url.host_type() == boost::urls::host_type::ipvfuture ||
      (url.host_type() == boost::urls::host_type::name && !std::ranges::all_of(host, name_char))) {
    return "has a host that is not a DNS name or an IP address";
  }
  // A name whose last label is a number is an IPv4 address to a browser
  // (127.1, 010.0.0.1), which it sends as a dotted quad: only that form can match.
  if (url.host_type() == boost::urls::host_type::name) {
    const auto last_label = host.substr(host.rfind('.') + 1);
    if (!last_label.empty() &&
        std::ranges::all_of(last_label, [](char c) { return c >= '0' && c <= '9'; })) {
      return "has an IPv4 address not written as four decimal numbers (a.b.c.d)";
    }
  }
  // An IPv6 address as browsers serialise it: shortest (RFC 5952: ::1, not
  // 0:0::1), and in hexadecimal only (::ffff:102:304, not ::ffff:1.2.3.4).
  if (url.host_type() == boost::urls::host_type::ipv6 &&
      (host.find('.') != std::string_view::npos ||
       host != "[" + url.host_ipv6_address().to_string() + "]")) {
    return "has an IPv6 address not in its shortest form (RFC 5952)";
  }
  if (url.has_port()) {
    const auto port = url.port();
    if (port.empty()) return "has an empty port";
    unsigned number = 0;
    const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), number);
    if (ec != std::errc{} || end != port.data() + port.size() || port.front() == '0' ||
        number > 65535) {
      return "has a port outside 1 to 65535 (or with a leading zero)";
    }
    if ((scheme == "http" && port == "80") || (scheme == "https" && port == "443")) {
      return "names the scheme's default port, which browsers leave out";
    }
  }
  if (url.encoded_path() == "/") return "ends with a slash";
  if (!url.encoded_path().empty()) return "has a path";
  if (url.has_query()) return "has a query";
  if (url.has_fragment()) return "has a fragment";
  return std::nullopt;
}

}  // namespace

std::optional<std::string_view> allowed_origin(const http::Request& request,
                                               std::span<const std::string> allowed) {
  if (allowed.empty()) return std::nullopt;
  std::optional<std::string_view> origin;
  for (const auto& [name, value] : request.headers) {
    if (!equals_ignoring_case(name, "Origin")) continue;
    if (origin) return std::nullopt;  // two Origin fields: not a browser's request
    origin = value;
  }
  // "null" is what sandboxed documents and file: pages send: never trusted.
  if (!origin || origin->empty() || *origin == "null") return std::nullopt;
  const bool listed = std::ranges::any_of(
      allowed, [&](const std::string& each) { return each == "*" || each == *origin; });
  return listed ? origin : std::nullopt;
}

bool is_preflight(const http::Request& request) {
  return request.method == "OPTIONS" &&
         !request.header_values("Access-Control-Request-Method").empty();
}

http::Response preflight_response(std::string_view origin, std::string_view methods) {
  return http::Response{
      204,
      {{"Access-Control-Allow-Origin", std::string(origin)},
       {"Access-Control-Allow-Methods", std::string(methods)},
       {"Access-Control-Allow-Headers", "Authorization, Content-Type, If-Match, X-Request-Id"},
       {"Access-Control-Max-Age", std::string(kPreflightMaxAge)},
       {"Vary", "Origin"}},
      {}};
}

void share_with(http::Response& response, std::string_view origin) {
  response.headers.emplace_back("Access-Control-Allow-Origin", std::string(origin));
  response.headers.emplace_back("Access-Control-Expose-Headers",
                                "ETag, Location, Link, Retry-After, X-Request-Id");
}

}  // namespace icp::detail

icp::Result<void> icp::http::check_cors_origin(std::string_view origin) {
  if (origin == "*") return {};
  const auto parsed = boost::urls::parse_uri(origin);
  const auto problem =
      parsed ? detail::origin_problem(*parsed) : std::optional<std::string_view>("is not a URL");
  if (!problem) return {};
  return Error{Errc::bad_request,
               fmt::format("\"{}\" {}: an origin is scheme://host[:port] as a browser sends it "
                           "(RFC 6454 section 6.1), http or https, lower-case, e.g. "
                           "https://app.example.com or http://localhost:3000; or * for any",
                           origin, *problem)};
}
