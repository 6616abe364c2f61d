#pragma once

// Who is calling: the result of authentication, whatever the transport.

#include <icp/core_export.hpp>

#include <algorithm>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace icp {

/// The longest organization name accepted from a credential, in bytes.
inline constexpr std::size_t kMaxOrganizationBytes = 256;

/// Whether `organization` may name one: 1 to kMaxOrganizationBytes of visible
/// ASCII (Clerk's are `org_` and 27 more). Credentials carrying another are
/// refused, so a store never keys on control bytes or unbounded text.
[[nodiscard]] constexpr bool is_valid_organization(std::string_view organization) noexcept {
  return !organization.empty() && organization.size() <= kMaxOrganizationBytes &&
         std::ranges::all_of(organization, [](char c) { return c > ' ' && c < 0x7f; });
}

/// The longest user id accepted, in bytes: in an ICP's `userIds` and from a
/// credential. Every store indexes user ids; this bound keeps an index entry
/// well inside PostgreSQL's limit (about 2.7 KB).
inline constexpr std::size_t kMaxUserIdBytes = 256;

/// Whether `user_id` may name a user: 1 to kMaxUserIdBytes bytes of UTF-8
/// with no control character (U+0000 to U+001F, U+007F) (Clerk's are `user_`
/// and 27 more). One rule for every store: PostgreSQL cannot hold U+0000 or
/// bytes that are not UTF-8.
[[nodiscard]] ICP_CORE_EXPORT bool is_valid_user_id(std::string_view user_id) noexcept;

/// The caller of an operation. Anonymous callers are not signed in. Every
/// caller acts within one organization (a tenant; empty: a personal account,
/// no organization) and reaches only ICPs of that organization; admins may
/// access every ICP of theirs. A small value type, safe to copy and share.
class AuthContext {
 public:
  /// A caller who is not signed in: every operation answers `unauthorized`.
  [[nodiscard]] static AuthContext anonymous() { return AuthContext{}; }
  /// A signed-in user, `user_id` as ICPs' `userIds` list it, acting in `organization`.
  [[nodiscard]] static AuthContext user(std::string user_id, std::string organization = {}) {
    return AuthContext{std::move(user_id), std::move(organization), false};
  }
  /// As user(), and an admin of `organization`: reaches all of its ICPs.
  [[nodiscard]] static AuthContext admin(std::string user_id, std::string organization = {}) {
    return AuthContext{std::move(user_id), std::move(organization), true};
  }

  /// False only for anonymous().
  [[nodiscard]] bool is_authenticated() const noexcept { return user_id_.has_value(); }
  /// True only for admin().
  [[nodiscard]] bool is_admin() const noexcept { return admin_; }
  /// Empty for an anonymous caller.
  [[nodiscard]] std::string_view user_id() const noexcept {
    return user_id_ ? std::string_view{*user_id_} : std::string_view{};
  }
  /// The organization the caller acts in; empty for none (and for anonymous).
  [[nodiscard]] std::string_view organization() const noexcept { return organization_; }

 private:
  AuthContext() = default;
  AuthContext(std::string user_id, std::string organization, bool admin)
      : user_id_(std::move(user_id)), organization_(std::move(organization)), admin_(admin) {}

  std::optional<std::string> user_id_;
  std::string organization_;
  bool admin_ = false;
};

}  // namespace icp
