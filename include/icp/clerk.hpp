#pragma once

// Clerk session tokens, verified offline ("networkless"), the way Clerk's own
// backend SDK does with a PEM public key: signature first, then the claims.

#include <icp/clerk_export.hpp>
#include <icp/http.hpp>

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace icp::clerk {

/// Who is an admin: the claim at a dot-separated `path` holds `value` (a
/// string equal to it, or an array of strings containing it), or so does one
/// of the `alternatives`. An admin administers their active organization only.
struct ICP_CLERK_EXPORT AdminClaim {
  std::string path = "metadata.role";  ///< Clerk's RBAC guide: public metadata as a session claim
  std::string value = "admin";         ///< the value that makes an admin
  /// Further (path, value) pairs, any of which also makes an admin.
  std::vector<std::pair<std::string, std::string>> alternatives;

  /// `PATH=VALUE`, e.g. `metadata.role=admin`; `bad_request` when malformed.
  [[nodiscard]] static Result<AdminClaim> parse(std::string_view spec);
  /// The role in the active organization, in both of Clerk's session token
  /// shapes: `o.rol` = `admin` (v2, the role without its prefix) and
  /// `org_role` = `org:admin` (v1). `role` may be given with or without `org:`.
  [[nodiscard]] static AdminClaim organization_role(std::string_view role = "admin") {
    const auto bare = role.starts_with("org:") ? role.substr(4) : role;
    return {.path = "o.rol",
            .value = std::string(bare),
            .alternatives = {{"org_role", "org:" + std::string(bare)}}};
  }
};

/// How ClerkAuthenticator verifies tokens; only `public_key_pem` is required.
struct ClerkOptions {
  /// The instance's JWT public key, PEM (`-----BEGIN PUBLIC KEY-----`, SPKI),
  /// RSA of 2048 to 16384 bits. Escaped `\n` (as in an environment variable)
  /// are taken as line breaks.
  std::string public_key_pem;
  /// Also take the token from the `__session` cookie when the request has no
  /// Authorization header (same-origin browser requests).
  bool accept_session_cookie = false;
  /// Allowed `azp` (the origin that asked for the token); empty: any. When
  /// set, a token without `azp` is refused too.
  std::vector<std::string> authorized_parties;
  /// Allowed `iss`; empty: any. When set, a token without `iss` is refused.
  std::vector<std::string> issuers;
  /// Refuse sessions whose `sts` is `pending` (tasks still to complete).
  bool reject_pending_sessions = false;
  /// Leeway for `exp`, `nbf` and `iat`.
  std::chrono::seconds clock_skew{5};
  AdminClaim admin;  ///< who is an admin; by default `metadata.role` is `admin`
  /// Now; the system clock when empty. Tests inject their own.
  std::function<std::chrono::system_clock::time_point()> clock;
};

/// The largest token accepted, in bytes; larger ones are refused unread
/// (401 `token-too-large`). Clerk keeps session tokens within a 4 KiB
/// cookie; 8 KiB stays below icp-server's 16 KiB header limit, so a client
/// sees this refusal, not the server's 431, up to that limit.
inline constexpr std::size_t kMaxTokenBytes = std::size_t{8} * 1024;

/// The largest header part (base64url, before the first dot) accepted:
/// Clerk's is about 150 bytes. Larger ones are refused before decoding, so
/// no JSON a sender chose is parsed beyond this before the signature holds.
inline constexpr std::size_t kMaxTokenHeaderBytes = 1024;

/// Verifies `Authorization: Bearer <jwt>` (scheme in any case) or, when
/// enabled, the `__session` cookie. Algorithms RS256, RS384 and RS512 only,
/// checked before anything else of the token is used; `typ`, when present,
/// must be `JWT`; `exp` and `sub` are required. Every failure is
/// `unauthorized` with a message that starts with a reason code Clerk's SDK
/// also uses where it has one (`token-expired: ...`, `token-invalid-signature:
/// ...`), and never holds the token or the key. Thread-safe.
class ICP_CLERK_EXPORT ClerkAuthenticator final : public http::Authenticator {
 public:
  /// `bad_request` naming the problem: no key, not PEM, not an RSA public
  /// key, a key of the wrong size, a malformed allow-list entry.
  [[nodiscard]] static Result<std::shared_ptr<ClerkAuthenticator>> create(ClerkOptions options);

  [[nodiscard]] Result<AuthContext> authenticate(const http::Request& request) const override;

  /// The caller a token stands for; what authenticate() does after finding it.
  [[nodiscard]] Result<AuthContext> verify(std::string_view token) const;

  ~ClerkAuthenticator() override;
  ClerkAuthenticator(const ClerkAuthenticator&) = delete;
  ClerkAuthenticator& operator=(const ClerkAuthenticator&) = delete;
  ClerkAuthenticator(ClerkAuthenticator&&) = delete;
  ClerkAuthenticator& operator=(ClerkAuthenticator&&) = delete;

 private:
  struct Impl;
  explicit ClerkAuthenticator(std::unique_ptr<Impl> impl);

  std::unique_ptr<Impl> impl_;
};

/// The largest Clerk key file read_key_file reads: a PEM public key of
/// 16384 bits is under 3 KiB.
inline constexpr std::size_t kMaxKeyFileBytes = std::size_t{64} * 1024;

/// A PEM key from a regular file of at most kMaxKeyFileBytes (a FIFO, a
/// device or a larger file is refused before reading it whole);
/// `bad_request` naming the file when unreadable.
[[nodiscard]] ICP_CLERK_EXPORT Result<std::string> read_key_file(const std::filesystem::path& path);

/// A PEM key from an environment variable such as `CLERK_JWT_KEY`.
[[nodiscard]] ICP_CLERK_EXPORT Result<std::string> key_from_environment(
    const char* variable = "CLERK_JWT_KEY");

}  // namespace icp::clerk
