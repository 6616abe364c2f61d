#pragma once

// The SQLite schema, one migration per version. Version N is reached by
// running steps 1..N in order; user_version records the last one run.

#include <array>
#include <string_view>

namespace icp::detail::sqlite {

inline constexpr std::array<std::string_view, 3> kMigrations{
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
    // Version 2: the revision of each ICP, for ETags and compare-and-swap.
    // ICPs written before it get revision 0 until their next write.
    R"sql(
ALTER TABLE icps ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;
)sql",
    // Version 3: organizations. An ICP is named by (organization, id), and
    // every key and index leads with the organization, so each statement
    // stays an index search within one. Existing ICPs belong to none ('').
    // SQLite cannot change a primary key in place: both tables are rebuilt,
    // in key order, so that the new key's index is built densely (copied in
    // the old row order, gets were slower after: docs/performance.md,
    // "Measurements behind the code: sqlite v3 migration").
    R"sql(
CREATE TABLE icps_v3 (
  organization TEXT NOT NULL,
  id TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  doc TEXT NOT NULL,
  revision INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (organization, id)
);
INSERT INTO icps_v3 (organization, id, created_at, doc, revision)
  SELECT '', id, created_at, doc, revision FROM icps ORDER BY id;
DROP TABLE icps;
ALTER TABLE icps_v3 RENAME TO icps;
CREATE INDEX icps_by_listing_order ON icps (organization, created_at DESC, id);
CREATE TABLE icp_members_v3 (
  organization TEXT NOT NULL,
  user_id TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  icp_id TEXT NOT NULL,
  PRIMARY KEY (organization, user_id, created_at DESC, icp_id)
) WITHOUT ROWID;
INSERT INTO icp_members_v3 (organization, user_id, created_at, icp_id)
  SELECT '', user_id, created_at, icp_id FROM icp_members ORDER BY user_id, created_at DESC, icp_id;
DROP TABLE icp_members;
ALTER TABLE icp_members_v3 RENAME TO icp_members;
CREATE INDEX icp_members_by_icp ON icp_members (organization, icp_id);
)sql",
};

/// The statements the store prepares on every connection. The organization
/// is each one's last parameter.
namespace sql {

inline constexpr const char* kGet =
    "SELECT doc, revision FROM icps WHERE organization = ?2 AND id = ?1";
// The member's row is found by the membership table's whole primary key.
inline constexpr const char* kGetForMember = R"sql(
SELECT i.doc, i.revision FROM icps i
WHERE i.organization = ?3 AND i.id = ?1 AND EXISTS (
  SELECT 1 FROM icp_members m WHERE m.organization = ?3 AND m.user_id = ?2
  AND m.created_at = i.created_at AND m.icp_id = i.id))sql";
inline constexpr const char* kRevision =
    "SELECT revision FROM icps WHERE organization = ?2 AND id = ?1";
inline constexpr const char* kUpsert = R"sql(
INSERT INTO icps (organization, id, created_at, doc, revision) VALUES (?5, ?1, ?2, ?3, ?4)
ON CONFLICT (organization, id) DO UPDATE
SET created_at = excluded.created_at, doc = excluded.doc, revision = excluded.revision)sql";
inline constexpr const char* kErase = "DELETE FROM icps WHERE organization = ?2 AND id = ?1";
inline constexpr const char* kEraseMembers =
    "DELETE FROM icp_members WHERE organization = ?2 AND icp_id = ?1";
inline constexpr const char* kInsertMember =
    "INSERT INTO icp_members (organization, user_id, created_at, icp_id) VALUES (?4, ?1, ?2, ?3)";
// Listings take the keyset position as (?2 created_at, ?3 id); the first page
// passes a position before every row. The redundant `<=` gives the planner a
// range on the index.
inline constexpr const char* kListForMember = R"sql(
SELECT i.doc, i.revision FROM icp_members m
JOIN icps i ON i.organization = m.organization AND i.id = m.icp_id
WHERE m.organization = ?5 AND m.user_id = ?1 AND m.created_at <= ?2
  AND (m.created_at < ?2 OR m.icp_id > ?3)
ORDER BY m.created_at DESC, m.icp_id LIMIT ?4)sql";
inline constexpr const char* kListAll = R"sql(
SELECT doc, revision FROM icps
WHERE organization = ?5 AND created_at <= ?2 AND (created_at < ?2 OR id > ?3)
ORDER BY created_at DESC, id LIMIT ?4)sql";

}  // namespace sql

}  // namespace icp::detail::sqlite
