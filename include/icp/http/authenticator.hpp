#pragma once

// Who sent a request: the Authenticator interface, the bearer token, and
// the static tokens file for development and tests.

#include <icp/auth.hpp>
#include <icp/error.hpp>
#include <icp/http/message.hpp>
#include <icp/http_export.hpp>

#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace icp::http {

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

}  // namespace icp::http
