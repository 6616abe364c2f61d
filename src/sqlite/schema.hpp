#pragma once

// The SQLite schema, one migration per version. Version N is reached by
// running steps 1..N in order; user_version records the last one run.

#include <array>
#include <string_view>

namespace icp::detail::sqlite {

inline constexpr std::array<std::string_view, 1> kMigrations{
    // Version 1. `doc` is the ICP's wire JSON; `created_at` (Unix ms) is
    // copied out of it for the listing order. Membership is its own table,
    // keyed for list-for-user in listing order, so no query scans `icps`.
    R"sql(
CREATE TABLE icps (
  id TEXT PRIMARY KEY NOT NULL,
  created_at INTEGER NOT NULL,
  doc TEXT NOT NULL
);
CREATE INDEX icps_by_listing_order ON icps (created_at DESC, id);
CREATE TABLE icp_members (
  user_id TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  icp_id TEXT NOT NULL,
  PRIMARY KEY (user_id, created_at DESC, icp_id)
) WITHOUT ROWID;
CREATE INDEX icp_members_by_icp ON icp_members (icp_id);
)sql",
};

}  // namespace icp::detail::sqlite
