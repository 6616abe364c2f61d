#pragma once

// The five ICP operations over HTTP, for any transport: no sockets here;
// icp-server and your own framework both call Adapter::handle().

#include <icp/error.hpp>
#include <icp/http/authenticator.hpp>
#include <icp/http/message.hpp>
#include <icp/http_export.hpp>
#include <icp/service.hpp>

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace icp::detail {
struct AdapterState;
}  // namespace icp::detail

namespace icp::http {

/// How an Adapter serves, fixed when it is made.
struct AdapterOptions {
  /// Bodies above this many bytes are 413.
  std::size_t max_body_bytes = std::size_t{1} << 20;
  /// A list page stops before its body reaches this many bytes (it always
  /// holds one ICP), and its Link continues from there.
  std::size_t max_page_bytes = std::size_t{1} << 20;
  /// Where the routes are mounted: the collection's path, percent-encoded as
  /// on the wire, without a trailing slash ("/" + segments). Links and
  /// Locations follow it. One that is_valid_base_path() refuses serves nothing.
  std::string base_path = "/api/v1/entities/icps";
  /// Origins (`https://app.example.com`, exact; "*" for any) whose browser
  /// scripts may call the API: preflight OPTIONS are answered and responses
  /// carry Access-Control-Allow-Origin. Empty: no CORS headers at all.
  std::vector<std::string> cors_origins;
  /// Called with the whole Error behind each 500 and 503 the adapter answers
  /// for the service, whose body then says only what happened in general: a
  /// store's reasons (a socket path, a port, an index name) are for the
  /// operator's log, never the client. Called from many threads at once.
  /// Unset: the detail is dropped.
  std::function<void(const Error&)> on_server_error;
};

/// True for an AdapterOptions::base_path the adapter can serve: an absolute
/// path of one or more non-empty segments, no query or fragment.
[[nodiscard]] ICP_HTTP_EXPORT bool is_valid_base_path(std::string_view path);

/// Whether `origin` can be one of AdapterOptions::cors_origins: "*", or an
/// origin as a browser's Origin field carries it (RFC 6454 section 6.1),
/// `scheme://host[:port]` (https, http, or an extension's or app's scheme
/// such as chrome-extension or capacitor; never file), lower-case, no user,
/// path (not even "/"), query or fragment, no wildcard, an IP address only
/// in the form browsers write it, and a port only when it is not the
/// scheme's default. Anything else could never match a request; the error
/// says which rule it breaks.
[[nodiscard]] ICP_HTTP_EXPORT Result<void> check_cors_origin(std::string_view origin);

/// What a request target names among the adapter's routes.
enum class Route {
  none,        ///< none of them
  collection,  ///< the base path
  item,        ///< base path / {id}
};

/// The routes of the ICP API (docs/api.md) under AdapterOptions::base_path (by default
/// /api/v1/entities/icps):
///   GET, POST  /api/v1/entities/icps          list (?limit, ?cursor, ?scope=all), create
///   GET, PATCH, DELETE  /api/v1/entities/icps/{id}
///   HEAD on both: GET's answer, body included; the transport sends only its
///   header and the body's Content-Length (RFC 9110 section 9.3.2)
///   OPTIONS (CORS preflight, from AdapterOptions::cors_origins)
/// with the API's statuses and error bodies, `WWW-Authenticate: Bearer` on
/// 401, `Location` on 201, `ETag` on every single-ICP response, `If-Match` on
/// PATCH and DELETE, `Link: <...>; rel="next"` on list pages, 405 with
/// `Allow`, 404 for other paths, 413, 415 and 400 for bodies and queries it
/// cannot take. Thread-safe and cheap to copy; never throws.
class ICP_HTTP_EXPORT Adapter {
 public:
  /// Serves `service`, each request's caller found by `authenticator` (shared;
  /// must not be null).
  Adapter(IcpService service, std::shared_ptr<const Authenticator> authenticator,
          AdapterOptions options = {});

  /// The response to a complete request; anything that fails inside is a 500.
  [[nodiscard]] Response handle(const Request& request) const;

  /// For a transport that has read a request's header but not yet its body:
  /// the answer handle() would give whatever the body holds (a refused
  /// caller, route or method, a 415, for PATCH a 404, 403 or 412, and the
  /// whole answer of a GET, HEAD or DELETE, which read no body: a DELETE is
  /// carried out), so that a large body is read only for a caller who may
  /// send it, and one that means nothing never. nullopt: read the body and
  /// call handle().
  [[nodiscard]] std::optional<Response> precheck(const Request& head) const;

  /// True when `target` names one of the adapter's routes, for hosts that
  /// mount it beside their own.
  [[nodiscard]] bool serves(std::string_view target) const;
  /// Which route `target` names (for a host's metrics or logs).
  [[nodiscard]] Route route(std::string_view target) const;

 private:
  std::shared_ptr<const detail::AdapterState> state_;
};

}  // namespace icp::http
