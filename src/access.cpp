#include <icp/access.hpp>

#include <algorithm>

namespace icp {

bool is_member(const Icp& icp, const AuthContext& caller) noexcept {
  if (!caller.is_authenticated()) return false;
  return std::ranges::find(icp.user_ids, caller.user_id()) != icp.user_ids.end();
}

bool can_read(const Icp& icp, const AuthContext& caller) noexcept {
  // Nothing crosses organizations: an admin administers their own.
  return caller.is_authenticated() && icp.organization == caller.organization() &&
         (caller.is_admin() || is_member(icp, caller));
}

bool can_update(const Icp& icp, const AuthContext& caller) noexcept {
  return can_read(icp, caller);
}

bool can_delete(const Icp& icp, const AuthContext& caller) noexcept {
  return can_read(icp, caller);
}

bool can_list_all(const AuthContext& caller) noexcept {
  return caller.is_authenticated() && caller.is_admin();
}

}  // namespace icp
