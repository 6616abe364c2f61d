#pragma once

// Who is calling: the result of authentication, whatever the transport.

#include <optional>
#include <string>
#include <string_view>

namespace icp {

/// The caller of an operation. Anonymous callers are not signed in; admins
/// may access every ICP. A small value type, safe to copy and share.
class AuthContext {
 public:
  [[nodiscard]] static AuthContext anonymous() { return AuthContext{}; }
  [[nodiscard]] static AuthContext user(std::string user_id) {
    return AuthContext{std::move(user_id), false};
  }
  [[nodiscard]] static AuthContext admin(std::string user_id) {
    return AuthContext{std::move(user_id), true};
  }

  [[nodiscard]] bool is_authenticated() const noexcept { return user_id_.has_value(); }
  [[nodiscard]] bool is_admin() const noexcept { return admin_; }
  /// Empty for an anonymous caller.
  [[nodiscard]] std::string_view user_id() const noexcept {
    return user_id_ ? std::string_view{*user_id_} : std::string_view{};
  }

 private:
  AuthContext() = default;
  AuthContext(std::string user_id, bool admin) : user_id_(std::move(user_id)), admin_(admin) {}

  std::optional<std::string> user_id_;
  bool admin_ = false;
};

}  // namespace icp
