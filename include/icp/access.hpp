#pragma once

// The access rules: pure functions of (Icp, AuthContext), no I/O.

#include <icp/auth.hpp>
#include <icp/core_export.hpp>
#include <icp/model.hpp>

namespace icp {

/// True when `caller` is listed in `icp.user_ids`.
[[nodiscard]] ICP_CORE_EXPORT bool is_member(const Icp& icp, const AuthContext& caller) noexcept;

/// Get: members and admins of the ICP's organization. Anonymous callers and
/// callers of another organization never.
[[nodiscard]] ICP_CORE_EXPORT bool can_read(const Icp& icp, const AuthContext& caller) noexcept;

/// Update: the same people who may read it.
[[nodiscard]] ICP_CORE_EXPORT bool can_update(const Icp& icp, const AuthContext& caller) noexcept;

/// Delete: the same people who may read it.
[[nodiscard]] ICP_CORE_EXPORT bool can_delete(const Icp& icp, const AuthContext& caller) noexcept;

/// List every ICP, not just the caller's own: admins only.
[[nodiscard]] ICP_CORE_EXPORT bool can_list_all(const AuthContext& caller) noexcept;

}  // namespace icp
