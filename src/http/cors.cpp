#include "http/cors.hpp"

#include "util/ascii.hpp"

#include <algorithm>

namespace icp::detail {

namespace {

/// How long a browser may cache a preflight's answer, in seconds.
constexpr std::string_view kPreflightMaxAge = "600";

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
