#include <icp/json.hpp>
#include <icp/sqlite_store.hpp>

#include "json/stored_icp_reader.hpp"
#include "sqlite/schema.hpp"
#include "store/check_batch.hpp"
#include "store/errors.hpp"
#include "store/list_order.hpp"

#include <SQLiteCpp/SQLiteCpp.h>
#include <fmt/format.h>
#include <fmt/std.h>
#include <sqlite3.h>

#include <limits>
#include <mutex>
#include <vector>

namespace icp {

static_assert(detail::sqlite::kMigrations.size() == kSqliteSchemaVersion);

namespace {

using detail::sqlite::kMigrations;
namespace sql = detail::sqlite::sql;

std::int64_t to_unix_ms(Timestamp at) { return at.time_since_epoch().count(); }

/// A message that names the failed operation and SQLite's reason for the
/// error code, but never the statement or the values (they may be sensitive).
Error sqlite_error(std::string_view operation, const SQLite::Exception& e) {
  // Another process held the database locked past busy_timeout: it may be
  // free on the next try, so the caller may retry (503), unlike damage (500).
  const int primary = e.getErrorCode() & 0xff;
  if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED) {
    return Error{Errc::unavailable,
                 fmt::format("SQLite store: failed to {}: the database stayed locked by another "
                             "connection past SqliteOptions::busy_timeout; try again",
                             operation)};
  }
  return Error{Errc::internal, fmt::format("SQLite store: failed to {} ({})", operation,
                                           sqlite3_errstr(e.getErrorCode()))};
}

/// Binds TEXT. SQLiteCpp's pointer-and-size overload binds a BLOB (never
/// equal to a TEXT column) and its `const char*` one needs a terminator that a
/// string_view lacks, so views are bound as a (copied) string.
void bind_text(SQLite::Statement& statement, int index, std::string_view text) {
  statement.bind(index, std::string(text));
}

/// Binds TEXT that outlives the statement's use without copying it.
void bind_text(SQLite::Statement& statement, int index, const std::string& text) {
  statement.bindNoCopy(index, text);
}

/// Resets a statement when the scope ends, so the connection can be reused
/// whatever happened in between.
class StatementScope {
 public:
  explicit StatementScope(SQLite::Statement& statement) : statement_(statement) {}
  StatementScope(const StatementScope&) = delete;
  StatementScope& operator=(const StatementScope&) = delete;
  StatementScope(StatementScope&&) = delete;
  StatementScope& operator=(StatementScope&&) = delete;
  // Bindings stay: every use binds every parameter it reads before stepping.
  ~StatementScope() { statement_.tryReset(); }
  SQLite::Statement* operator->() { return &statement_; }
  SQLite::Statement& operator*() { return statement_; }

 private:
  SQLite::Statement& statement_;
};

/// One SQLite connection and its prepared statements. Used by one thread at a
/// time (the pool hands it out), hence SQLite's per-connection mutex is off.
struct Connection {
  Connection(const std::filesystem::path& path, const SqliteOptions& options)
      : db(path.string(), SQLite::OPEN_READWRITE | SQLite::OPEN_NOMUTEX,
           static_cast<int>(options.busy_timeout.count())),
        get(db, sql::kGet),
        get_for_member(db, sql::kGetForMember),
        revision(db, sql::kRevision),
        upsert(db, sql::kUpsert),
        erase(db, sql::kErase),
        erase_members(db, sql::kEraseMembers),
        insert_member(db, sql::kInsertMember),
        list_for_member(db, sql::kListForMember),
        list_all(db, sql::kListAll) {
    // NORMAL is durable in WAL mode but for the last commits before a power loss.
    db.exec("PRAGMA synchronous = NORMAL");
    db.exec(fmt::format("PRAGMA mmap_size = {}", options.mmap_size));
  }

  SQLite::Database db;
  SQLite::Statement get;
  SQLite::Statement get_for_member;
  SQLite::Statement revision;
  SQLite::Statement upsert;
  SQLite::Statement erase;
  SQLite::Statement erase_members;
  SQLite::Statement insert_member;
  SQLite::Statement list_for_member;
  SQLite::Statement list_all;
};

/// Connections for reuse: a call takes one (opening a new one when none is
/// idle) and gives it back when done, so concurrent calls never share one.
class ConnectionPool {
 public:
  ConnectionPool(std::filesystem::path path, SqliteOptions options)
      : path_(std::move(path)), options_(options) {}

  class Lease {
   public:
    Lease(ConnectionPool& pool, std::unique_ptr<Connection> connection)
        : pool_(pool), connection_(std::move(connection)) {}
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    Lease(Lease&&) = delete;
    Lease& operator=(Lease&&) = delete;
    ~Lease() { pool_.give_back(std::move(connection_)); }
    Connection* operator->() const { return connection_.get(); }
    Connection& operator*() const { return *connection_; }

   private:
    ConnectionPool& pool_;
    std::unique_ptr<Connection> connection_;
  };

  /// Throws SQLite::Exception when a new connection cannot be opened.
  Lease take() {
    {
      const std::lock_guard lock(mutex_);
      if (!idle_.empty()) {
        auto connection = std::move(idle_.back());
        idle_.pop_back();
        ++in_use_;
        return {*this, std::move(connection)};
      }
    }
    auto opened = std::make_unique<Connection>(path_, options_);
    const std::lock_guard lock(mutex_);
    ++in_use_;
    return {*this, std::move(opened)};
  }

  /// No fixed capacity and no waiting: a call opens a connection when none is idle.
  [[nodiscard]] PoolStats stats() const {
    const std::lock_guard lock(mutex_);
    return {.open = in_use_ + idle_.size(), .in_use = in_use_};
  }

 private:
  void give_back(std::unique_ptr<Connection> connection) {
    const std::lock_guard lock(mutex_);
    --in_use_;
    if (idle_.size() < options_.max_idle_connections) idle_.push_back(std::move(connection));
  }

  std::filesystem::path path_;
  SqliteOptions options_;
  mutable std::mutex mutex_;
  std::vector<std::unique_ptr<Connection>> idle_;
  std::size_t in_use_ = 0;
};

// Revisions are unsigned 64-bit; SQLite integers are signed 64-bit. The bit
// pattern is stored as is.
std::int64_t to_column(std::uint64_t revision) { return static_cast<std::int64_t>(revision); }
std::uint64_t revision_of(const SQLite::Column& column) {
  return static_cast<std::uint64_t>(column.getInt64());
}

/// Decodes a row of (doc, revision) of `organization`. A document that does
/// not parse means the file was changed behind the store's back: an internal
/// error, not the caller's fault.
Result<Icp> decode(SQLite::Statement& row, std::string_view organization) {
  const auto doc = row.getColumn(0);
  auto icp = detail::parse_stored_icp(
      std::string_view(doc.getText(), static_cast<std::size_t>(doc.getBytes())));
  if (!icp) return detail::damaged_icp("SQLite");
  icp->revision = revision_of(row.getColumn(1));
  icp->organization = organization;
  return icp;
}

/// Whether the file this connection has open is no longer the one at its
/// path (deleted, renamed or replaced): writes to it would be lost.
bool file_has_moved(Connection& connection) {
  int moved = 0;
  const int rc =
      sqlite3_file_control(connection.db.getHandle(), "main", SQLITE_FCNTL_HAS_MOVED, &moved);
  return rc == SQLITE_OK && moved != 0;
}

/// The stored revision of an ICP, nullopt when there is none.
std::optional<std::uint64_t> stored_revision(Connection& connection, std::string_view organization,
                                             std::string_view id) {
  StatementScope query(connection.revision);
  bind_text(*query, 1, id);
  bind_text(*query, 2, organization);
  if (!query->executeStep()) return std::nullopt;
  return revision_of(query->getColumn(0));
}

class SqliteStore final : public IcpStore {
 public:
  SqliteStore(std::filesystem::path path, SqliteOptions options)
      : path_(path), pool_(std::move(path), options) {}

  Result<std::optional<Icp>> get(const GetIcpRequest& request) override try {
    auto connection = pool_.take();
    if (request.existence_only && !request.member) {
      const auto revision = stored_revision(*connection, request.organization, request.id);
      if (!revision) return std::optional<Icp>{};
      return std::optional<Icp>{Icp{.id = std::string(request.id),
                                    .revision = *revision,
                                    .organization = std::string(request.organization)}};
    }
    StatementScope query(request.member ? connection->get_for_member : connection->get);
    bind_text(*query, 1, request.id);
    if (request.member) {
      bind_text(*query, 2, *request.member);
      bind_text(*query, 3, request.organization);
    } else {
      bind_text(*query, 2, request.organization);
    }
    if (!query->executeStep()) return std::optional<Icp>{};
    auto icp = decode(*query, request.organization);
    if (!icp) return std::move(icp).error();
    return std::optional<Icp>{std::move(*icp)};
  } catch (const SQLite::Exception& e) {
    return sqlite_error("read an ICP", e);
  }

  Result<void> write(const WriteIcpsRequest& request) override try {
    auto connection = pool_.take();
    if (file_has_moved(*connection)) return moved("write ICPs", false);
    // IMMEDIATE takes the write lock up front: a deferred transaction that
    // reads first could fail to upgrade under a concurrent writer.
    SQLite::Transaction transaction(connection->db, SQLite::TransactionBehavior::IMMEDIATE);
    auto stored = [&](const Icp& icp) {
      return stored_revision(*connection, icp.organization, icp.id);
    };
    if (auto problem = detail::check_batch(request, stored)) return *problem;
    for (const auto& icp : request.icps) write_one(*connection, icp);
    transaction.commit();
    return {};
  } catch (const SQLite::Exception& e) {
    return sqlite_error("write ICPs", e);
  }

  Result<bool> erase(const EraseIcpRequest& request) override try {
    auto connection = pool_.take();
    if (file_has_moved(*connection)) return moved("erase an ICP", false);
    SQLite::Transaction transaction(connection->db, SQLite::TransactionBehavior::IMMEDIATE);
    if (request.expected_revision) {
      const auto stored = stored_revision(*connection, request.organization, request.id);
      if (!stored) return false;
      if (*stored != *request.expected_revision) return detail::stale(request.id);
    }
    {
      StatementScope members(connection->erase_members);
      bind_text(*members, 1, request.id);
      bind_text(*members, 2, request.organization);
      members->exec();
    }
    StatementScope erase(connection->erase);
    bind_text(*erase, 1, request.id);
    bind_text(*erase, 2, request.organization);
    const bool erased = erase->exec() > 0;
    transaction.commit();
    return erased;
  } catch (const SQLite::Exception& e) {
    return sqlite_error("erase an ICP", e);
  }

  [[nodiscard]] std::optional<PoolStats> pool_stats() const override { return pool_.stats(); }

  Result<void> check_health() override try {
    auto connection = pool_.take();
    if (file_has_moved(*connection)) return moved("serve", true);
    StatementScope query(connection->revision);
    bind_text(*query, 1, std::string_view{});
    bind_text(*query, 2, std::string_view{});
    (void)query->executeStep();
    return {};
  } catch (const SQLite::Exception& e) {
    return sqlite_error("read the database", e);
  }

  Result<std::vector<Icp>> list(const ListIcpsRequest& request) override try {
    auto connection = pool_.take();
    StatementScope query(request.member ? connection->list_for_member : connection->list_all);
    if (request.member) {
      bind_text(*query, 1, *request.member);
    }
    if (request.after) {
      query->bind(2, to_unix_ms(request.after->created_at));
      bind_text(*query, 3, request.after->id);
    } else {
      query->bind(2, std::numeric_limits<std::int64_t>::max());
      bind_text(*query, 3, std::string_view{});
    }
    const auto limit = std::min<std::size_t>(request.limit, std::numeric_limits<int>::max());
    query->bind(4, static_cast<std::int64_t>(limit));
    bind_text(*query, 5, request.organization);
    std::vector<Icp> page;
    detail::ListBounds bounds(request);
    while (bounds.wants_more() && query->executeStep()) {
      auto icp = decode(*query, request.organization);
      if (!icp) return std::move(icp).error();
      page.push_back(std::move(*icp));
      bounds.add(page.back());
    }
    return page;
  } catch (const SQLite::Exception& e) {
    return sqlite_error("list ICPs", e);
  }

 private:
  static void write_one(Connection& connection, const Icp& icp) {
    const auto created_at = to_unix_ms(icp.created_at);
    const auto doc = to_json(icp);
    {
      StatementScope upsert(connection.upsert);
      bind_text(*upsert, 1, icp.id);
      upsert->bind(2, created_at);
      bind_text(*upsert, 3, doc);
      upsert->bind(4, to_column(icp.revision));
      bind_text(*upsert, 5, icp.organization);
      upsert->exec();
    }
    {
      StatementScope members(connection.erase_members);
      bind_text(*members, 1, icp.id);
      bind_text(*members, 2, icp.organization);
      members->exec();
    }
    for (const auto& user_id : icp.user_ids) {
      StatementScope member(connection.insert_member);
      bind_text(*member, 1, user_id);
      member->bind(2, created_at);
      bind_text(*member, 3, icp.id);
      bind_text(*member, 4, icp.organization);
      member->exec();
    }
  }

  /// The path only where an operator reads it (health checks): a write's
  /// error goes to whoever sent the request.
  [[nodiscard]] Error moved(std::string_view operation, bool with_path) const {
    return Error{Errc::internal,
                 fmt::format("SQLite store: cannot {}: the database file {}was deleted or "
                             "replaced while in use, so writes would be lost; restore the file "
                             "and restart",
                             operation, with_path ? path_.string() + " " : std::string())};
  }

  std::filesystem::path path_;
  ConnectionPool pool_;
};

// ---- opening ----------------------------------------------------------------

int user_version(SQLite::Database& db) { return db.execAndGet("PRAGMA user_version").getInt(); }

/// The first schema version whose migration rebuilds the tables.
constexpr int kFirstRebuildingVersion = 3;

/// After a migration that rebuilt the tables: their old pages are free and
/// interleaved with the new ones, and gets are slower until a VACUUM
/// (docs/performance.md, "Measurements behind the code: sqlite v3 migration").
/// Only the layout is at stake, so a VACUUM that fails (another process has
/// the file open, or no disk space for its copy) is left for another day.
void compact(SQLite::Database& db) noexcept {
  try {
    db.exec("VACUUM");
  } catch (const SQLite::Exception&) {  // NOLINT(bugprone-empty-catch): layout only
  }
}

/// Brings the schema to kSqliteSchemaVersion inside one write transaction, so
/// that processes opening the same new file at once migrate it exactly once.
Result<void> migrate(SQLite::Database& db, const std::filesystem::path& path) {
  SQLite::Transaction transaction(db, SQLite::TransactionBehavior::IMMEDIATE);
  const int version = user_version(db);
  if (version > kSqliteSchemaVersion) {
    return Error{Errc::internal,
                 fmt::format("{} has ICP schema version {}, newer than the {} this build of icp "
                             "supports: open it with a newer icp",
                             path, version, kSqliteSchemaVersion)};
  }
  if (version == 0 && db.execAndGet("SELECT count(*) FROM sqlite_schema").getInt() > 0) {
    return Error{Errc::internal,
                 fmt::format("{} is an SQLite database of another application (it has tables "
                             "but no ICP schema version); refusing to change it",
                             path)};
  }
  for (int step = version; step < kSqliteSchemaVersion; ++step) {
    db.exec(std::string(kMigrations.at(static_cast<std::size_t>(step))));
  }
  if (version != kSqliteSchemaVersion) {
    db.exec(fmt::format("PRAGMA user_version = {}", kSqliteSchemaVersion));
  }
  transaction.commit();
  if (version > 0 && version < kFirstRebuildingVersion) compact(db);
  return {};
}

}  // namespace

Result<std::shared_ptr<IcpStore>> open_sqlite_store(const std::filesystem::path& path,
                                                    SqliteOptions options) {
  std::error_code ec;
  const bool exists = std::filesystem::exists(path, ec);
  if (!exists && !options.create_if_missing) {
    return Error{Errc::not_found,
                 fmt::format("no ICP database at {} (set create_if_missing to create one)", path)};
  }
  try {
    int flags = SQLite::OPEN_READWRITE;
    if (options.create_if_missing) flags |= SQLite::OPEN_CREATE;
    SQLite::Database db(path.string(), flags, static_cast<int>(options.busy_timeout.count()));
    // Reading the header first: a file that is not a database fails here,
    // before anything (such as the WAL switch) writes to it.
    if (user_version(db) != kSqliteSchemaVersion) {
      if (auto migrated = migrate(db, path); !migrated) return migrated.error();
    }
    db.exec("PRAGMA journal_mode = WAL");
  } catch (const SQLite::Exception& e) {
    if (e.getErrorCode() == SQLITE_NOTADB) {
      return Error{Errc::internal,
                   fmt::format("{} is not an SQLite database; refusing to open it", path)};
    }
    return Error{Errc::internal, fmt::format("cannot open the ICP database {} ({})", path,
                                             sqlite3_errstr(e.getErrorCode()))};
  }
  return std::shared_ptr<IcpStore>(std::make_shared<SqliteStore>(path, options));
}

}  // namespace icp
