#pragma once

// The store for several app servers sharing one PostgreSQL database.

#include <icp/postgres_export.hpp>
#include <icp/store.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace icp {

/// How open_postgres_store() connects and runs the store.
struct PostgresOptions {
  /// Most connections open at once; a call waits for a free one.
  std::size_t pool_size = 8;
  /// An idle connection open longer than this is closed (keeping
  /// `min_idle`), so servers whose pools together exceed the server's
  /// `max_connections` hand connections back to each other. 0: never.
  std::chrono::milliseconds idle_timeout{60000};
  /// Idle connections kept open however long they stay idle.
  std::size_t min_idle = 1;
  /// How long a call waits for a connection, including reconnecting to a
  /// server that went away (a restart takes about a second), before it fails.
  std::chrono::milliseconds acquire_timeout{5000};
  /// The server cancels any statement running longer (`statement_timeout`),
  /// and the call fails as `unavailable`; 0 leaves the server's setting alone.
  std::chrono::milliseconds statement_timeout{10000};
  /// The longest a statement waits for a row lock another session holds
  /// (`lock_timeout`; `unavailable` after it); 0: the server's setting.
  std::chrono::milliseconds lock_timeout{5000};
  /// The longest the store waits for the server's answer to one statement
  /// (or to one row of a list) before it gives up on the connection and the
  /// call fails as `unavailable`: bounds a backend that stopped answering
  /// with its connection up (a frozen process, a hung host), which neither
  /// the server's timeouts nor TCP keepalives see. Longer than
  /// `statement_timeout` by default, so that the server's own cancel comes
  /// first. 0: no bound of the client's own.
  std::chrono::milliseconds answer_timeout{15000};
  /// The server ends a session of this store left idle inside a transaction
  /// longer (`idle_in_transaction_session_timeout`), releasing its locks: a
  /// process killed in the middle of a batch write holds them no longer.
  /// 0: the server's setting.
  std::chrono::milliseconds idle_in_transaction_timeout{10000};
  /// While a statement runs, the server checks this often that the client
  /// is still there (`client_connection_check_interval`, PostgreSQL 14+), so
  /// that the backend of a process killed mid-call ends, and lets go of its
  /// row locks, within about this long rather than at its own next timeout.
  /// 0: the server's setting.
  std::chrono::milliseconds client_connection_check_interval{1000};
  /// The schema holding the tables, created when missing (by a migrating
  /// open); empty: the connection's default (`public`). Lets several stores
  /// share a database.
  std::string schema;
  /// Whether opening the store may create or upgrade the schema (the
  /// owner's CREATE and ALTER privileges, taken only when it is not current).
  /// false: opening only reads the schema version and fails, saying to run
  /// migrate_postgres() (`icpctl migrate`), unless it is current.
  bool migrate = true;
  /// Set behind a pooler in transaction mode (PgBouncer's
  /// `pool_mode=transaction`), which hands each transaction to any backend:
  /// the store then keeps no state past a transaction, parsing each statement
  /// with its call and making its settings local to the call's transaction
  /// (a little more work for the server per call, the same round trips).
  /// false: each connection prepares its statements once and sets its
  /// settings for the session, the fastest for a direct connection or a
  /// pooler in session mode. A session that lost its prepared statements
  /// prepares them again either way.
  bool transaction_pooling = false;
};

/// The schema version this build writes (table `icp_schema_version`).
inline constexpr int kPostgresSchemaVersion = 2;

/// Opens a PostgreSQL ICP store: `url` is a `postgresql://` URL or a libpq
/// conninfo string (`host=/run/postgresql dbname=app`); libpq's environment
/// variables (PGPASSWORD, ...) apply. A schema at kPostgresSchemaVersion is
/// only read, so a role with SELECT, INSERT, UPDATE and DELETE on the tables
/// serves it (and a hot standby serves reads). Otherwise, with
/// `options.migrate`, creates or migrates it under an advisory lock, so
/// servers starting at once migrate it exactly once; a database with a newer
/// schema version is refused.
///
/// The timeouts of `options` are defaults: one the server's configuration,
/// the database, the role (`ALTER ROLE ... SET`) or the URL (`options=-c
/// statement_timeout=1500`) sets is left as the operator set it.
///
/// Thread-safe: each call takes a pooled connection and is one transaction.
/// A connection the server dropped is replaced on the next call; a call that
/// was using it fails as `unavailable` (503: retry), as does a call that
/// found no connection in time. Messages never hold SQL text or secrets.
[[nodiscard]] ICP_POSTGRES_EXPORT Result<std::shared_ptr<IcpStore>> open_postgres_store(
    std::string_view url, PostgresOptions options = {});

/// Creates or migrates the ICP schema of the database at `url` (in
/// `options.schema`, when set) to kPostgresSchemaVersion, as open does with
/// `options.migrate`, and returns: for a deploy step run as the database's
/// owner, so that the servers can run as a role that only reads and writes
/// rows. Safe to run again, and beside running servers.
[[nodiscard]] ICP_POSTGRES_EXPORT Result<void> migrate_postgres(std::string_view url,
                                                                PostgresOptions options = {});

/// True when `location` names a PostgreSQL database (`postgresql://` or
/// `postgres://`) rather than a file; for programs taking either in one flag.
/// Inline, so such a program can ask without linking icp::postgres.
[[nodiscard]] constexpr bool is_postgres_url(std::string_view location) noexcept {
  return location.starts_with("postgresql://") || location.starts_with("postgres://");
}

}  // namespace icp
