#include "own_routes.hpp"

#include <boost/url/parse.hpp>
#include <fmt/format.h>

#include <algorithm>

namespace icp::server {

namespace {

http::Response json_status(int status, std::string body) {
  return http::Response{status, {{"Content-Type", "application/json"}}, std::move(body)};
}

}  // namespace

std::string_view path_of(std::string_view target) {
  if (target.starts_with('/')) {
    // Not find_first_of: libstdc++ calls memchr for each character.
    const auto* const end =
        std::ranges::find_if(target, [](char c) { return c == '?' || c == '#'; });
    return {target.begin(), end};
  }
  const auto url = boost::urls::parse_absolute_uri(target);
  if (!url) return "-";
  const auto path = url->encoded_path();
  return path.empty() ? std::string_view("/") : std::string_view(path.data(), path.size());
}

RouteLabel own_route(std::string_view target) {
  if (target.find('?') != std::string_view::npos) return RouteLabel::other;  // not with a query
  const auto path = path_of(target);
  if (path == "/healthz") return RouteLabel::healthz;
  if (path == "/readyz") return RouteLabel::readyz;
  if (path == "/metrics") return RouteLabel::metrics;
  return RouteLabel::other;
}

http::Response own_method_not_allowed() {
  auto response =
      http::error_response(405, "METHOD_NOT_ALLOWED", "This resource allows only GET and HEAD");
  response.headers.emplace_back("Allow", "GET, HEAD");
  return response;
}

http::Response liveness() { return json_status(200, R"({"status":"ok"})"); }

http::Response metrics_page(std::string scrape, std::string_view content_type) {
  return http::Response{200, {{"Content-Type", std::string(content_type)}}, std::move(scrape)};
}

http::Response readiness(const std::optional<Result<void>>& ready) {
  if (ready && *ready) return json_status(200, R"({"status":"ready"})");
  auto response = json_status(503, R"({"status":"unavailable"})");
  response.headers.emplace_back("Retry-After", std::to_string(http::kRetryAfterSeconds));
  return response;
}

std::optional<std::string> not_ready_reason(const std::optional<Result<void>>& ready) {
  if (ready && *ready) return std::nullopt;
  return fmt::format("readyz: not ready: {}",
                     ready ? ready->error().message : "store calls queued full");
}

}  // namespace icp::server
