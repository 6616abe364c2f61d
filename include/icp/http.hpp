#pragma once

// The HTTP face of the five ICP operations, for any transport: a request is
// (method, target, headers, body), a response is (status, headers, body).
// No sockets here; icp-server and your own framework both call handle().

#include <icp/auth.hpp>
#include <icp/error.hpp>
#include <icp/service.hpp>

#include <boost/url/url_view.hpp>

#include <cstddef>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace icp::http {

/// One request as the transport received it. Views: they must outlive handle().
struct Request {
  std::string_view method;  ///< "GET", "POST", ... (case-sensitive, as HTTP says)
  /// Origin form (path and query, still percent-encoded) or absolute form
  /// (`http://host/path?query`, RFC 9112 section 3.2.2).
  std::string_view target;
  /// Every header field in the order received; names in any case. Repeated
  /// fields stay separate entries.
  std::vector<std::pair<std::string_view, std::string_view>> headers;
  std::string_view body;

  /// The values of the header `name` (case-insensitive), in order.
  [[nodiscard]] std::vector<std::string_view> header_values(std::string_view name) const;
};

struct Response {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;  ///< empty for 204

  /// The first value of the header `name` (case-insensitive), or empty.
  [[nodiscard]] std::string_view header(std::string_view name) const;
};

/// Turns a request's credentials into the caller. Implementations must be
/// thread-safe: handle() calls them from many threads at once.
class Authenticator {
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
[[nodiscard]] Result<std::string_view> bearer_token(const Request& request);

/// The largest tokens file StaticTokenAuthenticator::from_file reads.
inline constexpr std::size_t kMaxTokensFileBytes = std::size_t{1} << 20;

/// Tokens from a JSON object, `{"<token>": {"userId": "user_abc123", "admin": false}}`:
/// for development and tests. Thread-safe (immutable after construction).
/// At least one token, each one word of visible ASCII.
class StaticTokenAuthenticator final : public Authenticator {
 public:
  /// `bad_request` naming the problem for a malformed tokens document.
  [[nodiscard]] static Result<std::shared_ptr<StaticTokenAuthenticator>> from_json(
      std::string_view json);
  [[nodiscard]] static Result<std::shared_ptr<StaticTokenAuthenticator>> from_file(
      const std::filesystem::path& path);

  [[nodiscard]] Result<AuthContext> authenticate(const Request& request) const override;

  explicit StaticTokenAuthenticator(std::vector<std::pair<std::string, AuthContext>> tokens);

 private:
  std::vector<std::pair<std::string, AuthContext>> tokens_;  // sorted by token
};

struct AdapterOptions {
  /// Bodies above this many bytes are 413.
  std::size_t max_body_bytes = std::size_t{1} << 20;
  /// A list page stops before its body reaches this many bytes (it always
  /// holds one ICP), and its Link continues from there.
  std::size_t max_page_bytes = std::size_t{1} << 20;
};

/// The routes of ICP-API.md under /api/v1/entities/icps:
///   GET, POST  /api/v1/entities/icps          list (?limit, ?cursor, ?scope=all), create
///   GET, PATCH, DELETE  /api/v1/entities/icps/{id}
/// with the API's statuses and error bodies, `WWW-Authenticate: Bearer` on
/// 401, `Location` on 201, `ETag` on every single-ICP response, `If-Match` on
/// PATCH and DELETE, `Link: <...>; rel="next"` on list pages, 405 with
/// `Allow`, 404 for other paths, 413, 415 and 400 for bodies and queries it
/// cannot take. Thread-safe and cheap to copy; never throws.
class Adapter {
 public:
  Adapter(IcpService service, std::shared_ptr<const Authenticator> authenticator,
          AdapterOptions options = {});

  [[nodiscard]] Response handle(const Request& request) const;

  /// For a transport that has read a request's header but not yet its body:
  /// the answer handle() would give whatever the body holds (a refused
  /// caller, route or method, a 415, and for PATCH a 404, 403 or 412), so
  /// that a large body is read only for a caller who may send it. nullopt:
  /// read the body and call handle().
  [[nodiscard]] std::optional<Response> precheck(const Request& head) const;

  /// True when `path` (no query) is one of the adapter's routes, for hosts
  /// that mount it beside their own.
  [[nodiscard]] static bool serves(std::string_view target);

 private:
  /// A request past routing, method, size, query and authentication.
  struct Admitted {
    boost::urls::url_view url;
    bool collection = false;
    std::string id;  ///< decoded, for items
    AuthContext caller;
  };
  [[nodiscard]] std::variant<Response, Admitted> admit(const Request& request) const;
  [[nodiscard]] Response list_response(const IcpPage& page, const ListOptions& options) const;

  IcpService service_;
  std::shared_ptr<const Authenticator> authenticator_;
  AdapterOptions options_;
};

/// What `Retry-After` says on a 503: the store is usually back within a
/// second (a PostgreSQL restart, a lock released); clients back off further.
inline constexpr int kRetryAfterSeconds = 1;

/// The response for an Error: its status, the API's error body,
/// `WWW-Authenticate: Bearer` for 401 and `Retry-After` for 503.
[[nodiscard]] Response error_response(const Error& error);

}  // namespace icp::http
