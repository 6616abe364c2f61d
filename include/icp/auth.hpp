#pragma once

// Who is calling: the result of authentication, whatever the transport.

#include <optional>
#include <string>
#include <string_view>

namespace icp {

/// The caller of an operation. Anonymous callers are not signed in. Every
/// caller acts within one organization (a tenant; empty: a personal account,
/// no organization) and reaches only ICPs of that organization; admins may
/// access every ICP of theirs. A small value type, safe to copy and share.
class AuthContext {
 public:
  [[nodiscard]] static AuthContext anonymous() { return AuthContext{}; }
  [[nodiscard]] static AuthContext user(std::string user_id, std::string organization = {}) {
    return AuthContext{std::move(user_id), std::move(organization), false};
  }
  [[nodiscard]] static AuthContext admin(std::string user_id, std::string organization = {}) {
    return AuthContext{std::move(user_id), std::move(organization), true};
  }

  [[nodiscard]] bool is_authenticated() const noexcept { return user_id_.has_value(); }
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
