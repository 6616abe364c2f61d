#pragma once

// The HTTP face of the five ICP operations, for any transport: a request is
// (method, target, headers, body), a response is (status, headers, body).
// No sockets here; icp-server and your own framework both call handle().

#include <icp/auth.hpp>
#include <icp/error.hpp>
#include <icp/http_export.hpp>
#include <icp/service.hpp>

#include <boost/url/params_view.hpp>

#include <cstddef>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace icp::http {

/// One request as the transport received it. Views: they must outlive handle().
struct ICP_HTTP_EXPORT Request {
  std::string_view method;  ///< "GET", "POST", ... (case-sensitive, as HTTP says)
  /// Origin form (path and query, still percent-encoded) or absolute form
  /// (`http://host/path?query`, RFC 9112 section 3.2.2).
  std::string_view target;
  /// Every header field in the order received; names in any case. Repeated
  /// fields stay separate entries.
  std::vector<std::pair<std::string_view, std::string_view>> headers;
  std::string_view body;  ///< the complete body; empty when there is none

  /// The values of the header `name` (case-insensitive), in order.
  [[nodiscard]] std::vector<std::string_view> header_values(std::string_view name) const;
};

/// The answer for the transport to send. For HEAD it holds GET's body, which
/// the transport must not send.
struct ICP_HTTP_EXPORT Response {
  /// The HTTP status code.
  int status = 200;
  /// The header fields to send, in order.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;  ///< empty for 204

  /// The first value of the header `name` (case-insensitive), or empty.
  [[nodiscard]] std::string_view header(std::string_view name) const;
};

/// Turns a request's credentials into the caller. Implementations must be
/// thread-safe: handle() calls them from many threads at once.
class ICP_HTTP_EXPORT Authenticator {
 public:
  Authenticator() = default;
  Authenticator(const Authenticator&) = delete;
  Authenticator& operator=(const Authenticator&) = delete;
  Authenticator(Authenticator&&) = delete;
  Authenticator& operator=(Authenticator&&) = delete;
  virtual ~Authenticator() = default;

  /// The caller, or `unauthorized` with a reason a person can act on (never
  /// the credentials themselves). Never `AuthContext::anonymous()`: a request
  /// without valid credentials is an error here.
  [[nodiscard]] virtual Result<AuthContext> authenticate(const Request& request) const = 0;
};

/// The bearer token of `Authorization: Bearer <token>` (scheme in any case),
/// or `unauthorized`: no header, two headers, another scheme, no token.
[[nodiscard]] ICP_HTTP_EXPORT Result<std::string_view> bearer_token(const Request& request);

/// The largest tokens file StaticTokenAuthenticator::from_file reads.
inline constexpr std::size_t kMaxTokensFileBytes = std::size_t{1} << 20;

/// Tokens from a JSON object, `{"<token>": {"userId": "user_abc123", "admin": false}}`:
/// for development and tests. Thread-safe (immutable after construction).
/// At least one token, each one word of visible ASCII.
class ICP_HTTP_EXPORT StaticTokenAuthenticator final : public Authenticator {
 public:
  /// `bad_request` naming the problem for a malformed tokens document.
  [[nodiscard]] static Result<std::shared_ptr<StaticTokenAuthenticator>> from_json(
      std::string_view json);
  /// from_json() of a file of at most kMaxTokensFileBytes; `not_found` when
  /// it cannot be read, `bad_request` naming the file when it is malformed.
  [[nodiscard]] static Result<std::shared_ptr<StaticTokenAuthenticator>> from_file(
      const std::filesystem::path& path);

  [[nodiscard]] Result<AuthContext> authenticate(const Request& request) const override;

  /// Takes `tokens` (token, caller) as given, unchecked: prefer from_json().
  explicit StaticTokenAuthenticator(std::vector<std::pair<std::string, AuthContext>> tokens);

 private:
  std::vector<std::pair<std::string, AuthContext>> tokens_;  // sorted by token
};

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

/// What a request target names among the adapter's routes.
enum class Route {
  none,        ///< none of them
  collection,  ///< the base path
  item,        ///< base path / {id}
};

/// The routes of ICP-API.md under AdapterOptions::base_path (by default
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
  /// caller, route or method, a 415, and for PATCH a 404, 403 or 412), so
  /// that a large body is read only for a caller who may send it. nullopt:
  /// read the body and call handle().
  [[nodiscard]] std::optional<Response> precheck(const Request& head) const;

  /// True when `target` names one of the adapter's routes, for hosts that
  /// mount it beside their own.
  [[nodiscard]] bool serves(std::string_view target) const;
  /// Which route `target` names (for a host's metrics or logs).
  [[nodiscard]] Route route(std::string_view target) const;

 private:
  /// A request past routing, method, size, query and authentication.
  struct Admitted {
    boost::urls::params_view params;  ///< of the query; empty without one
    bool collection = false;
    std::string id;  ///< decoded, for items
    AuthContext caller;
  };
  [[nodiscard]] std::variant<Response, Admitted> admit(const Request& request) const;
  /// error_response for an error of the service; 500 and 503 with a
  /// generic message, the Error handed to on_server_error.
  [[nodiscard]] Response refuse(const Error& error) const;
  [[nodiscard]] Response answer(const Request& request) const;
  [[nodiscard]] std::optional<Response> answer_early(const Request& head) const;
  [[nodiscard]] Response list_response(const IcpPage& page, const ListOptions& options) const;
  [[nodiscard]] std::string next_link(const ListOptions& options,
                                      std::string_view next_cursor) const;
  /// The CORS answer to a preflight, or the CORS headers of an answer.
  [[nodiscard]] std::optional<Response> preflight(const Request& request) const;
  void share(const Request& request, Response& response) const;

  IcpService service_;
  std::shared_ptr<const Authenticator> authenticator_;
  AdapterOptions options_;
  std::vector<std::string> base_segments_;  ///< decoded; empty: serves nothing
  /// The base path routes plain targets by their text (see adapter.cpp).
  bool routes_text_ = false;
};

/// What `Retry-After` says on a 503: the store is usually back within a
/// second (a PostgreSQL restart, a lock released); clients back off further.
inline constexpr int kRetryAfterSeconds = 1;

/// The response for an Error: its status, the API's error body,
/// `WWW-Authenticate: Bearer` for 401 and `Retry-After` for 503.
[[nodiscard]] ICP_HTTP_EXPORT Response error_response(const Error& error);

/// An error the transport answers itself, in the API's error body
/// (`{"error":{"code":...,"message":...}}`, escaped): for statuses with no
/// Errc, such as 405 `METHOD_NOT_ALLOWED`, 408 `REQUEST_TIMEOUT`, 413
/// `PAYLOAD_TOO_LARGE`, 431 or 501 `NOT_IMPLEMENTED`.
[[nodiscard]] ICP_HTTP_EXPORT Response error_response(int status, std::string_view code,
                                                      std::string_view message);

}  // namespace icp::http
