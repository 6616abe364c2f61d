#pragma once

// The routes icp-server answers itself, beside the adapter's: /healthz
// (the process serves; never waits on the store), /readyz (the store
// answers a cheap call) and /metrics (the scrape).

#include <icp/error.hpp>
#include <icp/http/message.hpp>

#include "route_label.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace icp::server {

/// The path of a target (origin or absolute form), without its query:
/// what the log shows, since a query may hold a secret.
[[nodiscard]] std::string_view path_of(std::string_view target);

/// Which of the server's own routes a target names; `other` for the rest
/// (and for any target with a query).
[[nodiscard]] RouteLabel own_route(std::string_view target);

/// True for the routes the server answers itself.
[[nodiscard]] constexpr bool is_own(RouteLabel route) {
  return route == RouteLabel::healthz || route == RouteLabel::readyz ||
         route == RouteLabel::metrics;
}

/// The 405 of an own route for a method other than GET and HEAD.
[[nodiscard]] http::Response own_method_not_allowed();

/// /healthz's answer.
[[nodiscard]] http::Response liveness();

/// /metrics's answer: `scrape`, of `content_type`.
[[nodiscard]] http::Response metrics_page(std::string scrape, std::string_view content_type);

/// /readyz's answer to the store's health check; nullopt: the check was not
/// run (store calls queued to their bound). A 503 says nothing of why:
/// the reason is for the operator's log (`not_ready_reason`).
[[nodiscard]] http::Response readiness(const std::optional<Result<void>>& ready);

/// Why /readyz answered 503, for the log; nullopt when it answered 200.
[[nodiscard]] std::optional<std::string> not_ready_reason(const std::optional<Result<void>>& ready);

}  // namespace icp::server
