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

}  // namespace

std::optional<Error> migrate(const pg::Connection& db, const Session& session) {
  pg::exec(db, "BEGIN");
  const auto lock = fmt::format("SELECT pg_advisory_xact_lock({})", kMigrationLockKey);
  (void)pg::exec(db, lock.c_str(), PGRES_TUPLES_OK);
  if (!session.schema_identifier.empty()) {
    const auto create = fmt::format("CREATE SCHEMA IF NOT EXISTS {}", session.schema_identifier);
    pg::exec(db, create.c_str());
  }
  const bool had_icps = single_int(db, "SELECT 1 WHERE to_regclass('icps') IS NOT NULL") &&
                        !single_int(db,
                                    "SELECT 1 WHERE to_regclass('icp_schema_version') "
                                    "IS NOT NULL");
  if (had_icps) {
    return Error{Errc::internal,
                 "PostgreSQL store: the database has an `icps` table but no "
                 "icp_schema_version: it belongs to another application; refusing to change it "
                 "(use PostgresOptions::schema for a schema of icp's own)"};
  }
  pg::exec(db, std::string(kCreateVersionTable).c_str());
  const int version = single_int(db, "SELECT max(version) FROM icp_schema_version").value_or(0);
  if (version > kPostgresSchemaVersion) {
    return Error{Errc::internal,
                 fmt::format("PostgreSQL store: the database has ICP schema version {}, newer "
                             "than the {} this build of icp supports: use a newer icp",
                             version, kPostgresSchemaVersion)};
  }
  for (int step = version; step < kPostgresSchemaVersion; ++step) {
    pg::exec(db, std::string(kMigrations.at(static_cast<std::size_t>(step))).c_str());
    const auto record =
        fmt::format("INSERT INTO icp_schema_version (version) VALUES ({})", step + 1);
    pg::exec(db, record.c_str());
  }
  pg::exec(db, "COMMIT");
  return std::nullopt;
}

}  // namespace icp::detail::postgres
