#pragma once

// Cross-origin resource sharing (the Fetch standard's CORS protocol) for the
// adapter's routes: browsers on an allowed origin may call the API with a
// bearer token; every other origin gets no Access-Control-* header at all.

#include <icp/http.hpp>

#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace icp::detail {

/// The request's Origin when it is one of `allowed` ("*": any): the request
/// carries exactly one Origin field. nullopt otherwise.
[[nodiscard]] std::optional<std::string_view> allowed_origin(const http::Request& request,
                                                             std::span<const std::string> allowed);

/// True for a CORS preflight: OPTIONS with Access-Control-Request-Method.
[[nodiscard]] bool is_preflight(const http::Request& request);

/// 204 allowing `origin` the route's methods and the headers the API reads.
[[nodiscard]] http::Response preflight_response(std::string_view origin, std::string_view methods);

/// Shares an actual response with `origin` and exposes the headers a
/// script needs (ETag for If-Match, Location, Link, Retry-After, X-Request-Id).
void share_with(http::Response& response, std::string_view origin);

}  // namespace icp::detail
