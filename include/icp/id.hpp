#pragma once

// ICP ids: UUIDs in the 8-4-4-4-12 hex shape, compared case-insensitively.

#include <icp/core_export.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace icp {

/// The canonical (lower-case) form of an ICP id, or nullopt when `text` is not
/// of the 8-4-4-4-12 hex shape. Any version and variant nibble is accepted.
[[nodiscard]] ICP_CORE_EXPORT std::optional<std::string> canonical_icp_id(std::string_view text);

/// A new random (version 4) UUID in canonical form.
[[nodiscard]] ICP_CORE_EXPORT std::string new_icp_id();

}  // namespace icp
