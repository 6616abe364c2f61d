#pragma once

// The PostgreSQL schema, one migration per version, and the statements the
// store prepares on every connection. `icp_schema_version` records each
// version applied; migrations run under an advisory lock.

#include <array>
#include <cstdint>
#include <string_view>

namespace icp::detail::postgres {

/// Taken (per transaction) while migrating, so servers starting at once
/// migrate one after the other and all but the first find nothing to do.
inline constexpr std::int64_t kMigrationLockKey = 0x1c9'5c4e'0a11'0001;

inline constexpr std::string_view kCreateVersionTable = R"sql(
CREATE TABLE IF NOT EXISTS icp_schema_version (
  version integer PRIMARY KEY,
  applied_at timestamptz NOT NULL DEFAULT now()
))sql";

inline constexpr std::array<std::string_view, 2> kMigrations{
    // Version 1. `doc` is the ICP's wire JSON exactly as written, so opaque
    // parts come back with their key order; `body` is the same as jsonb for
    // queries of your own. `created_at` (Unix ms) is copied out for the
    // listing order. Ids compare bytewise (COLLATE "C"), as in every store.
    // Membership is its own table keyed for list-for-user in listing order.
    R"sql(
CREATE TABLE icps (
  id text COLLATE "C" PRIMARY KEY,
  created_at bigint NOT NULL,
  revision bigint NOT NULL,
  doc text NOT NULL,
  body jsonb GENERATED ALWAYS AS (doc::jsonb) STORED
);
CREATE INDEX icps_by_listing_order ON icps (created_at DESC, id);
CREATE TABLE icp_members (
  user_id text COLLATE "C" NOT NULL,
  created_at bigint NOT NULL,
  icp_id text COLLATE "C" NOT NULL REFERENCES icps (id) ON DELETE CASCADE,
  PRIMARY KEY (icp_id, user_id)
);
CREATE INDEX icp_members_in_listing_order ON icp_members (user_id, created_at DESC, icp_id);
)sql",
    // Version 2: organizations. An ICP is named by (organization, id); every
    // key and index leads with the organization, which is also the column a
    // distributed PostgreSQL shards by (docs/scaling.md). Existing ICPs
    // belong to none (''); writers must name one from now on.
    R"sql(
ALTER TABLE icp_members DROP CONSTRAINT icp_members_icp_id_fkey;
ALTER TABLE icps ADD COLUMN organization text COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE icp_members ADD COLUMN organization text COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE icps ALTER COLUMN organization DROP DEFAULT;
ALTER TABLE icp_members ALTER COLUMN organization DROP DEFAULT;
ALTER TABLE icps DROP CONSTRAINT icps_pkey;
ALTER TABLE icps ADD PRIMARY KEY (organization, id);
ALTER TABLE icp_members DROP CONSTRAINT icp_members_pkey;
ALTER TABLE icp_members ADD PRIMARY KEY (organization, icp_id, user_id);
ALTER TABLE icp_members ADD CONSTRAINT icp_members_icp_fkey FOREIGN KEY (organization, icp_id)
  REFERENCES icps (organization, id) ON DELETE CASCADE;
DROP INDEX icps_by_listing_order;
CREATE INDEX icps_by_listing_order ON icps (organization, created_at DESC, id);
DROP INDEX icp_members_in_listing_order;
CREATE INDEX icp_members_in_listing_order
  ON icp_members (organization, user_id, created_at DESC, icp_id);
)sql",
};

/// A prepared statement: its name on the connection, its text, the types of
/// its parameters.
struct Statement {
  const char* name;
  const char* sql;
  int parameter_count;
  std::array<unsigned, 6> parameter_types;  // Oid values
};

namespace sql {

inline constexpr unsigned kText = 25;
inline constexpr unsigned kInt8 = 20;

// The organization is each statement's last parameter.
inline constexpr Statement kGet{
    "icp_get",
    "SELECT doc, revision FROM icps WHERE organization = $2 AND id = $1",
    2,
    {kText, kText}};
inline constexpr Statement kGetForMember{
    "icp_get_for_member",
    "SELECT doc, revision FROM icps WHERE organization = $3 AND id = $1 AND EXISTS "
    "(SELECT 1 FROM icp_members WHERE organization = $3 AND icp_id = $1 AND user_id = $2)",
    3,
    {kText, kText, kText}};
inline constexpr Statement kRevision{
    "icp_revision",
    "SELECT revision FROM icps WHERE organization = $2 AND id = $1",
    2,
    {kText, kText}};
inline constexpr Statement kLockRevision{
    "icp_lock_revision",
    "SELECT revision FROM icps WHERE organization = $2 AND id = $1 FOR UPDATE",
    2,
    {kText, kText}};
inline constexpr Statement kInsert{
    "icp_insert",
    "INSERT INTO icps (organization, id, created_at, doc, revision) VALUES ($5, $1, $2, $3, $4)",
    5,
    {kText, kInt8, kText, kInt8, kText}};
inline constexpr Statement kUpsert{"icp_upsert",
                                   R"sql(
INSERT INTO icps (organization, id, created_at, doc, revision) VALUES ($5, $1, $2, $3, $4)
ON CONFLICT (organization, id) DO UPDATE
SET created_at = excluded.created_at, doc = excluded.doc, revision = excluded.revision)sql",
                                   5,
                                   {kText, kInt8, kText, kInt8, kText}};
// The compare-and-swap: one statement, so no other write can come between
// the comparison and the change.
inline constexpr Statement kReplaceIf{"icp_replace_if",
                                      R"sql(
UPDATE icps SET created_at = $2, doc = $3, revision = $4
WHERE organization = $6 AND id = $1 AND revision = $5)sql",
                                      6,
                                      {kText, kInt8, kText, kInt8, kInt8, kText}};
inline constexpr Statement kErase{
    "icp_erase", "DELETE FROM icps WHERE organization = $2 AND id = $1", 2, {kText, kText}};
inline constexpr Statement kEraseIf{"icp_erase_if",
                                    "DELETE FROM icps WHERE organization = $3 AND id = $1 AND "
                                    "revision = $2",
                                    3,
                                    {kText, kInt8, kText}};
inline constexpr Statement kEraseMembers{
    "icp_erase_members",
    "DELETE FROM icp_members WHERE organization = $2 AND icp_id = $1",
    2,
    {kText, kText}};
// $3: the user ids as a JSON array of strings.
inline constexpr Statement kInsertMembers{"icp_insert_members",
                                          R"sql(
INSERT INTO icp_members (organization, user_id, created_at, icp_id)
SELECT DISTINCT $4, jsonb_array_elements_text($3::jsonb), $2, $1)sql",
                                          4,
                                          {kText, kInt8, kText, kText}};
// Listings take the keyset position as ($2 created_at, $3 id); the first page
// passes a position before every row. The redundant `<=` gives the planner a
// range on the index.
inline constexpr Statement kListForMember{"icp_list_for_member",
                                          R"sql(
SELECT i.doc, i.revision FROM icp_members m
JOIN icps i ON i.organization = m.organization AND i.id = m.icp_id
WHERE m.organization = $5 AND m.user_id = $1 AND m.created_at <= $2
  AND (m.created_at < $2 OR m.icp_id > $3)
ORDER BY m.created_at DESC, m.icp_id LIMIT $4)sql",
                                          5,
                                          {kText, kInt8, kText, kInt8, kText}};
inline constexpr Statement kListAll{"icp_list_all",
                                    R"sql(
SELECT doc, revision FROM icps
WHERE organization = $4 AND created_at <= $1 AND (created_at < $1 OR id > $2)
ORDER BY created_at DESC, id LIMIT $3)sql",
                                    4,
                                    {kInt8, kText, kInt8, kText}};

inline constexpr std::array kAll{&kGet,     &kGetForMember, &kRevision,      &kLockRevision,
                                 &kInsert,  &kUpsert,       &kReplaceIf,     &kErase,
                                 &kEraseIf, &kEraseMembers, &kInsertMembers, &kListForMember,
                                 &kListAll};

}  // namespace sql

}  // namespace icp::detail::postgres
