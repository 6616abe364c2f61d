#pragma once

// What icp-server calls the routes it serves, in its metrics and logs.

#include <cstddef>

namespace icp::server {

/// The `route` label: a route template, never the path (ids would make a
/// series per ICP).
enum class RouteLabel { collection, item, healthz, readyz, metrics, other };
inline constexpr std::size_t kRouteLabels = 6;

}  // namespace icp::server
