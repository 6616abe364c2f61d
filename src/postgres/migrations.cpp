#include "postgres/migrations.hpp"

#include <icp/postgres_store.hpp>

#include "postgres/schema.hpp"

#include <fmt/format.h>

#include <string>

namespace icp::detail::postgres {

namespace {

std::optional<int> single_int(const pg::Connection& db, const char* query) {
  const auto result = pg::exec(db, query, PGRES_TUPLES_OK);
  if (PQntuples(result.get()) == 0 || PQgetisnull(result.get(), 0, 0) != 0) return std::nullopt;
  return std::stoi(PQgetvalue(result.get(), 0, 0));
}

/// The version the schema records (0: none), or why it is not ours to touch.
struct Found {
  int version = 0;
  std::optional<Error> refusal;
};

Found inspect(const pg::Connection& db) {
  if (!single_int(db, "SELECT 1 WHERE to_regclass('icp_schema_version') IS NOT NULL")) {
    if (single_int(db, "SELECT 1 WHERE to_regclass('icps') IS NOT NULL")) {
      return {0, Error{Errc::internal,
                       "PostgreSQL store: the database has an `icps` table but no "
                       "icp_schema_version: it belongs to another application; refusing to "
                       "change it (use PostgresOptions::schema for a schema of icp's own)"}};
    }
    return {};
  }
  const int version = single_int(db, "SELECT max(version) FROM icp_schema_version").value_or(0);
  if (version > kPostgresSchemaVersion) {
    return {version, Error{Errc::internal,
                           fmt::format("PostgreSQL store: the database has ICP schema version {}, "
                                       "newer than the {} this build of icp supports: use a newer "
                                       "icp",
                                       version, kPostgresSchemaVersion)}};
  }
  return {version, std::nullopt};
}

/// Ends the transaction when the tables the version row promises are there.
std::optional<Error> commit_if_complete(const pg::Connection& db) {
  if (!tables_exist(db)) {
    return Error{Errc::internal,
                 fmt::format("PostgreSQL store: cannot open the ICP database: {}", kTablesMissing)};
  }
  pg::exec(db, "COMMIT");
  return std::nullopt;
}

}  // namespace

std::optional<Error> migrate(const pg::Connection& db, const Session& session, bool allow_changes) {
  // SET LOCAL: the schema is this transaction's, never the session's.
  const auto begin =
      session.schema_identifier.empty()
          ? std::string("BEGIN")
          : fmt::format("BEGIN; SET LOCAL search_path = {}", session.schema_identifier);
  pg::exec(db, begin.c_str());
  // The store's timeouts for this transaction too: a migration queued behind
  // a long transaction would otherwise hold every server's queries behind it.
  if (const auto defaults = defaults_select(session, true); !defaults.empty()) {
    (void)pg::exec(db, defaults.c_str(), PGRES_TUPLES_OK);
  }
  auto found = inspect(db);
  if (found.refusal) return found.refusal;
  if (found.version == kPostgresSchemaVersion) return commit_if_complete(db);
  if (!allow_changes) {
    return Error{Errc::internal,
                 fmt::format("PostgreSQL store: the database's ICP schema is at version {}, and "
                             "this build of icp needs {}: run `icpctl migrate --db URL` as the "
                             "database's owner, or let opening migrate it "
                             "(PostgresOptions::migrate, icp-server --pg-migrate)",
                             found.version, kPostgresSchemaVersion)};
  }
  const auto lock = fmt::format("SELECT pg_advisory_xact_lock({})", kMigrationLockKey);
  (void)pg::exec(db, lock.c_str(), PGRES_TUPLES_OK);
  // current_schema() is null while the search path names no schema that
  // exists; creating one that does would need CREATE on the database.
  if (!session.schema_identifier.empty() &&
      !single_int(db, "SELECT 1 WHERE current_schema() IS NOT NULL")) {
    const auto create = fmt::format("CREATE SCHEMA IF NOT EXISTS {}", session.schema_identifier);
    pg::exec(db, create.c_str());
  }
  // Again under the lock: another server may have migrated meanwhile.
  found = inspect(db);
  if (found.refusal) return found.refusal;
  pg::exec(db, std::string(kCreateVersionTable).c_str());
  for (int step = found.version; step < kPostgresSchemaVersion; ++step) {
    pg::exec(db, std::string(kMigrations.at(static_cast<std::size_t>(step))).c_str());
    const auto record =
        fmt::format("INSERT INTO icp_schema_version (version) VALUES ({})", step + 1);
    pg::exec(db, record.c_str());
  }
  return commit_if_complete(db);
}

}  // namespace icp::detail::postgres
