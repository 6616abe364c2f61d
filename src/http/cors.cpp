#include "http/cors.hpp"

#include "util/ascii.hpp"

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <iterator>
#include <string>

namespace icp::detail {

namespace {

/// How long a browser may cache a preflight's answer, in seconds.
constexpr std::string_view kPreflightMaxAge = "600";

/// An IPv6 address as browsers serialise it (the URL standard): lower-case
/// hexadecimal groups without leading zeros, the first longest run of two
/// or more zero groups as "::", never a dotted IPv4 tail. By hand because
/// Boost.URL's to_string writes an IPv4-mapped address dotted, as RFC 5952
/// does and browsers do not.
std::string browser_ipv6(const boost::urls::ipv6_address& address) {
  const auto bytes = address.to_bytes();
  std::array<unsigned, 8> groups{};
  for (std::size_t i = 0; i < groups.size(); ++i) {
    groups.at(i) = (unsigned{bytes.at(2 * i)} << 8U) | bytes.at(2 * i + 1);
  }
  std::size_t run_start = groups.size();
  std::size_t run_length = 1;  // a run must be longer to be compressed
  for (std::size_t i = 0; i < groups.size();) {
    std::size_t j = i;
    while (j < groups.size() && groups.at(j) == 0) ++j;
    if (j - i > run_length) {
      run_start = i;
      run_length = j - i;
    }
    i = j == i ? i + 1 : j;
  }
  std::string text = "[";
  for (std::size_t i = 0; i < groups.size(); ++i) {
    if (i == run_start) {
      text += i == 0 ? "::" : ":";
      i += run_length - 1;
      continue;
    }
    fmt::format_to(std::back_inserter(text), "{:x}", groups.at(i));
    if (i + 1 < groups.size()) text += ':';
  }
  text += ']';
  return text;
}

/// Whether a browser reads `name` as an IPv4 address (the URL standard:
/// its last label, a trailing dot aside, is a number, decimal or 0x hex).
bool reads_as_ipv4(std::string_view name) {
  if (name.ends_with('.')) name.remove_suffix(1);
  auto last = name.substr(name.rfind('.') + 1);
  if (last.empty()) return false;
  const auto digit = [](char c) { return c >= '0' && c <= '9'; };
  if (std::ranges::all_of(last, digit)) return true;
  if (!last.starts_with("0x")) return false;
  last.remove_prefix(2);
  return std::ranges::all_of(last, [&](char c) { return digit(c) || (c >= 'a' && c <= 'f'); });
}

/// Why `url` is not an origin a browser sends, or nullopt.
std::optional<std::string_view> origin_problem(const boost::urls::url_view& url) {
  const auto scheme = url.scheme();
  const auto upper = [](char c) { return c >= 'A' && c <= 'Z'; };
  if (std::ranges::any_of(scheme, upper)) return "is not lower-case";
  // Pages from files get the origin "null", never file://...
  if (scheme == "file") return "is a file: URL, whose pages send the origin null";
  if (!url.has_authority()) return "has no //host";
  if (url.has_userinfo()) return "holds a user (user@host)";
  const auto host = url.encoded_host();
  if (host.empty()) return "has no host";
  if (host.find('*') != std::string_view::npos) {
    return "holds a wildcard (list each origin, or give * alone)";
  }
  if (std::ranges::any_of(host, upper)) return "is not lower-case";
  // A DNS name (letters, digits, '-', '.', '_'), IPv4, or an IPv6 literal.
  const auto name_char = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_';
  };
  const auto type = url.host_type();
  if (type == boost::urls::host_type::ipvfuture ||
      (type == boost::urls::host_type::name && !std::ranges::all_of(host, name_char))) {
    return "has a host that is not a DNS name or an IP address";
  }
  // Browsers rewrite 127.1, 010.0.0.1 or 0x7f000001 as a dotted quad (or
  // refuse them): only that form can match.
  if (type == boost::urls::host_type::name && reads_as_ipv4(host)) {
    return "has an IPv4 address not written as four decimal numbers (a.b.c.d)";
  }
  if (type == boost::urls::host_type::ipv6 && host != browser_ipv6(url.host_ipv6_address())) {
    return "has an IPv6 address not as browsers write it (shortest, hexadecimal: [::ffff:102:304])";
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
    const bool web = scheme == "http" || scheme == "ws";
    const bool secure_web = scheme == "https" || scheme == "wss";
    if ((web && port == "80") || (secure_web && port == "443")) {
      return "names the scheme's default port, which browsers leave out";
    }
  }
  // "1.2.3.4." parses as an IPv4 host and a path "."; browsers read 1.2.3.4.
  if (type == boost::urls::host_type::ipv4 && !url.encoded_path().empty() &&
      !url.encoded_path().starts_with('/')) {
    return "has an IPv4 address not written as four decimal numbers (a.b.c.d)";
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
                           "(RFC 6454 section 6.1), lower-case, e.g. https://app.example.com, "
                           "http://localhost:3000 or chrome-extension://ID; or * for any",
                           origin, *problem)};
}
