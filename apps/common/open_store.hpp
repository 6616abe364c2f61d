#pragma once

// The store a `--db` flag names: a `postgresql://` URL or an SQLite file.

#include <icp/postgres_store.hpp>
#include <icp/sqlite_store.hpp>

#include <string_view>

namespace icp::apps {

#ifdef ICP_APPS_WITH_POSTGRES
using PostgresSettings = PostgresOptions;
#else
struct PostgresSettings {};  ///< this build has no PostgreSQL store
#endif

/// `create_if_missing` applies to SQLite files; a PostgreSQL database must
/// exist (its tables are created on first use).
[[nodiscard]] inline Result<std::shared_ptr<IcpStore>> open_store(
    std::string_view location, bool create_if_missing,
    [[maybe_unused]] const PostgresSettings& postgres = {}) {
  if (is_postgres_url(location)) {
#ifdef ICP_APPS_WITH_POSTGRES
    return open_postgres_store(location, postgres);
#else
    return Error{Errc::internal,
                 "this build of icp has no PostgreSQL support: configure it with libpq "
                 "installed (Debian: libpq-dev)"};
#endif
  }
  return open_sqlite_store(location, {.create_if_missing = create_if_missing});
}

/// Creates or upgrades the schema of the database `location` names (an
/// SQLite file is created if missing, and migrates as it opens).
[[nodiscard]] inline Result<void> migrate_store(std::string_view location,
                                                [[maybe_unused]] const PostgresSettings& postgres) {
  if (is_postgres_url(location)) {
#ifdef ICP_APPS_WITH_POSTGRES
    return migrate_postgres(location, postgres);
#else
    return open_store(location, false).error();
#endif
  }
  auto store = open_store(location, true);
  if (!store) return store.error();
  return {};
}

}  // namespace icp::apps
