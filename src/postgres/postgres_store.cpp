#include <icp/postgres_store.hpp>

#include <icp/json.hpp>

#include "../json_internal.hpp"
#include "../list_order.hpp"
#include "libpq.hpp"
#include "schema.hpp"

#include <fmt/format.h>
#include <poll.h>
#include <boost/json.hpp>

#include <algorithm>
#include <condition_variable>
#include <limits>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

namespace icp {

static_assert(detail::postgres::kMigrations.size() == kPostgresSchemaVersion);

namespace {

namespace pg = detail::pg;
namespace sql = detail::postgres::sql;
using Clock = std::chrono::steady_clock;

std::int64_t to_unix_ms(Timestamp at) { return at.time_since_epoch().count(); }

// Revisions are unsigned 64-bit, bigint is signed: the bit pattern is stored.
std::int64_t to_column(std::uint64_t revision) { return static_cast<std::int64_t>(revision); }

/// How a failure to open a connection begins its reason.
constexpr std::string_view kCannotConnect = "cannot connect: ";

/// SQLSTATEs after which the same call may succeed on the same connection
/// (PostgreSQL's appendix A): serialization failures and deadlocks, a lock
/// not available, too many connections. Connection exceptions (08) and
/// shutdowns (57P) are Failure::connection_lost(), from pg::failure_of.
bool is_transient(std::string_view sqlstate) {
  return sqlstate == "40001" || sqlstate == "40P01" || sqlstate == "55P03" || sqlstate == "53300";
}

/// The Error for a failure during `operation`: what failed, the server's or
/// libpq's reason, and what to do about it. Never SQL text or values.
Error postgres_error(std::string_view operation, const pg::Failure& failure) {
  if (failure.sqlstate() == "57014") {
    return Error{Errc::unavailable,
                 fmt::format("PostgreSQL store: failed to {}: the statement timeout cancelled it "
                             "({}); raise PostgresOptions::statement_timeout or look for locks",
                             operation, failure.reason())};
  }
  if (failure.reason().starts_with(kCannotConnect)) {
    return Error{Errc::unavailable,
                 fmt::format("PostgreSQL store: failed to {}: {}; check that the server is up and "
                             "reachable (calls wait for it up to PostgresOptions::acquire_timeout)",
                             operation, failure.reason())};
  }
  if (failure.connection_lost()) {
    return Error{Errc::unavailable,
                 fmt::format("PostgreSQL store: failed to {}: the connection to the server was "
                             "lost ({}); the next call reconnects. A write whose commit was cut "
                             "off may or may not have been applied: read before retrying it",
                             operation, failure.reason())};
  }
  if (failure.transient() || is_transient(failure.sqlstate())) {
    return Error{Errc::unavailable, fmt::format("PostgreSQL store: failed to {} ({}); try again",
                                                operation, failure.reason())};
  }
  return Error{Errc::internal,
               fmt::format("PostgreSQL store: failed to {} ({})", operation, failure.reason())};
}

/// Settings every connection gets before its first statement.
struct Session {
  std::string url;
  std::string schema_identifier;  ///< quoted; empty: the server's search_path
  std::chrono::milliseconds statement_timeout{0};
  std::chrono::milliseconds connect_timeout{0};
};

/// A new connection with the session set up and every statement prepared.
/// Throws pg::Failure.
pg::ConnectionPtr connect(const Session& session, bool prepare) {
  // libpq's connect_timeout is whole seconds, at least 2. Keywords before
  // `dbname` are defaults the URL may override (libpq applies them in order).
  const auto seconds = std::max<std::int64_t>(
      2, std::chrono::ceil<std::chrono::seconds>(session.connect_timeout).count());
  const std::string timeout = std::to_string(seconds);
  const std::array<const char*, 4> keywords{"connect_timeout", "fallback_application_name",
                                            "dbname", nullptr};
  const std::array<const char*, 4> values{timeout.c_str(), "icp", session.url.c_str(), nullptr};
  pg::ConnectionPtr connection(PQconnectdbParams(keywords.data(), values.data(), 1));
  if (!connection) throw pg::Failure("out of memory", "", true);
  if (PQstatus(connection.get()) != CONNECTION_OK) {
    throw pg::Failure(pg::one_line(PQerrorMessage(connection.get())), "", true);
  }
  // libpq prints server notices on stderr by default; a library stays quiet.
  PQsetNoticeProcessor(
      connection.get(), [](void*, const char*) {}, nullptr);
  if (session.statement_timeout.count() > 0) {
    const auto set = fmt::format("SET statement_timeout = {}", session.statement_timeout.count());
    pg::exec(connection.get(), set.c_str());
  }
  if (!session.schema_identifier.empty()) {
    const auto set = fmt::format("SET search_path = {}", session.schema_identifier);
    pg::exec(connection.get(), set.c_str());
  }
  if (prepare) {
    for (const auto* statement : sql::kAll) {
      const pg::ResultPtr result(PQprepare(connection.get(), statement->name, statement->sql,
                                           statement->parameter_count,
                                           statement->parameter_types.data()));
      if (!result || PQresultStatus(result.get()) != PGRES_COMMAND_OK) {
        throw pg::failure_of(connection.get(), result.get());
      }
    }
  }
  return connection;
}

/// True when an idle connection is still usable. An idle session never
/// expects data, so anything readable is the server going away (a shutdown
/// notice, then end of file): checked with one poll(), no round trip.
bool still_open(PGconn* connection) {
  if (PQstatus(connection) != CONNECTION_OK) return false;
  pollfd descriptor{.fd = PQsocket(connection), .events = POLLIN, .revents = 0};
  return descriptor.fd >= 0 && ::poll(&descriptor, 1, 0) == 0;
}

/// At most `pool_size` connections. A call takes an idle one that is still
/// open, or opens one (retrying while the server is down) until its
/// deadline; a connection comes back only when its session is clean.
class ConnectionPool {
 public:
  ConnectionPool(Session session, const PostgresOptions& options)
      : session_(std::move(session)),
        size_(std::max<std::size_t>(1, options.pool_size)),
        acquire_timeout_(options.acquire_timeout) {}

  ConnectionPool(const ConnectionPool&) = delete;
  ConnectionPool& operator=(const ConnectionPool&) = delete;
  ConnectionPool(ConnectionPool&&) = delete;
  ConnectionPool& operator=(ConnectionPool&&) = delete;
  ~ConnectionPool() = default;

  class Lease {
   public:
    Lease(ConnectionPool& pool, pg::ConnectionPtr connection)
        : pool_(pool), connection_(std::move(connection)) {}
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    Lease(Lease&&) = delete;
    Lease& operator=(Lease&&) = delete;
    /// Ends any transaction left open by an error; a connection that cannot
    /// be brought back to idle is closed instead of returned.
    ~Lease() {
      PGconn* connection = connection_.get();
      bool reusable = PQstatus(connection) == CONNECTION_OK;
      if (reusable && PQtransactionStatus(connection) != PQTRANS_IDLE) {
        const pg::ResultPtr rollback(PQexec(connection, "ROLLBACK"));
        reusable = rollback && PQresultStatus(rollback.get()) == PGRES_COMMAND_OK &&
                   PQtransactionStatus(connection) == PQTRANS_IDLE;
      }
      pool_.give_back(std::move(connection_), reusable);
    }
    [[nodiscard]] PGconn* get() const { return connection_.get(); }

   private:
    ConnectionPool& pool_;
    pg::ConnectionPtr connection_;
  };

  /// Throws pg::Failure when no connection is free or can be opened in time.
  Lease take() {
    const auto deadline = Clock::now() + acquire_timeout_;
    bool waited = false;  // a call that waits twice is one wait
    std::unique_lock lock(mutex_);
    for (;;) {
      while (!idle_.empty()) {
        auto connection = std::move(idle_.back());
        idle_.pop_back();
        if (still_open(connection.get())) return {*this, std::move(connection)};
        --open_;  // closed by the server while idle: replaced below
      }
      if (open_ < size_) {
        ++open_;
        lock.unlock();
        try {
          return {*this, open_until(deadline)};
        } catch (...) {
          lock.lock();
          --open_;
          available_.notify_one();
          throw;
        }
      }
      if (!waited) {
        waited = true;
        ++waits_;
      }
      if (available_.wait_until(lock, deadline) == std::cv_status::timeout && idle_.empty() &&
          open_ >= size_) {
        ++timeouts_;
        throw pg::Failure(
            fmt::format("all {} connections stayed busy for {} ms; raise PostgresOptions::"
                        "pool_size or acquire_timeout",
                        size_, acquire_timeout_.count()),
            "", false, true);
      }
    }
  }

  [[nodiscard]] PoolStats stats() const {
    const std::lock_guard lock(mutex_);
    return {.capacity = size_,
            .open = open_,
            .in_use = open_ - idle_.size(),
            .waits = waits_,
            .timeouts = timeouts_};
  }

 private:
  /// Opens a connection, retrying while the server is unreachable (it may be
  /// restarting) until the deadline; then fails with libpq's last reason.
  pg::ConnectionPtr open_until(Clock::time_point deadline) {
    auto backoff = std::chrono::milliseconds(20);
    for (;;) {
      try {
        return connect(session_, true);
      } catch (const pg::Failure& failure) {
        const auto now = Clock::now();
        if (!failure.connection_lost() || now + backoff >= deadline) {
          throw pg::Failure(fmt::format("{}{}", kCannotConnect, failure.reason()),
                            failure.sqlstate(), true);
        }
        std::this_thread::sleep_for(backoff);
        backoff = std::min(backoff * 2, std::chrono::milliseconds(500));
      }
    }
  }

  void give_back(pg::ConnectionPtr connection, bool reusable) {
    {
      const std::lock_guard lock(mutex_);
      if (reusable) {
        idle_.push_back(std::move(connection));
      } else {
        --open_;
      }
    }
    available_.notify_one();
    // An unusable connection closes here, outside the lock.
  }

  Session session_;
  std::size_t size_;
  std::chrono::milliseconds acquire_timeout_;
  mutable std::mutex mutex_;
  std::condition_variable available_;
  std::vector<pg::ConnectionPtr> idle_;
  std::size_t open_ = 0;  ///< idle plus leased
  std::uint64_t waits_ = 0;
  std::uint64_t timeouts_ = 0;
};

/// Thrown by decode, answered with detail::damaged_icp.
struct DamagedIcp {};

/// Decodes row `row` of (doc, revision) of `organization`. A document that
/// does not parse was changed behind the store's back: internal, not the
/// caller's fault.
Icp decode(const PGresult* result, int row, std::string_view organization) {
  auto icp = detail::parse_stored_icp(pg::text_at(result, row, 0));
  if (!icp) {
    throw DamagedIcp();
  }
  icp->revision = static_cast<std::uint64_t>(pg::int8_at(result, row, 1));
  icp->organization = organization;
  return std::move(*icp);
}

std::optional<std::uint64_t> stored_revision(PGconn* connection,
                                             const detail::postgres::Statement& statement,
                                             std::string_view organization, std::string_view id) {
  pg::Params<2> params;
  params.text(id).text(organization);
  const auto result = pg::exec_prepared(connection, statement, params, PGRES_TUPLES_OK);
  if (PQntuples(result.get()) == 0) return std::nullopt;
  return static_cast<std::uint64_t>(pg::int8_at(result.get(), 0, 0));
}

class PostgresStore final : public IcpStore {
 public:
  PostgresStore(Session session, const PostgresOptions& options)
      : pool_(std::move(session), options) {}

  Result<std::optional<Icp>> get(const GetIcpRequest& request) override try {
    const auto connection = pool_.take();
    if (request.existence_only && !request.member) {
      const auto revision =
          stored_revision(connection.get(), sql::kRevision, request.organization, request.id);
      if (!revision) return std::optional<Icp>{};
      return std::optional<Icp>{Icp{.id = std::string(request.id),
                                    .revision = *revision,
                                    .organization = std::string(request.organization)}};
    }
    pg::Params<3> params;
    params.text(request.id);
    if (request.member) params.text(*request.member);
    params.text(request.organization);
    const auto* statement = request.member ? &sql::kGetForMember : &sql::kGet;
    const auto result = pg::exec_prepared(connection.get(), *statement, params, PGRES_TUPLES_OK);
    if (PQntuples(result.get()) == 0) return std::optional<Icp>{};
    return std::optional<Icp>{decode(result.get(), 0, request.organization)};
  } catch (const pg::Failure& failure) {
    return postgres_error("read an ICP", failure);
  } catch (const DamagedIcp&) {
    return detail::damaged_icp("PostgreSQL");
  }

  [[nodiscard]] std::optional<PoolStats> pool_stats() const override { return pool_.stats(); }

  Result<void> check_health() override try {
    const auto connection = pool_.take();
    pg::exec(connection.get(), "SELECT 1", PGRES_TUPLES_OK);
    return {};
  } catch (const pg::Failure& failure) {
    return postgres_error("reach the database", failure);
  }

  Result<void> write(const WriteIcpsRequest& request) override try {
    const auto connection = pool_.take();
    PGconn* db = connection.get();
    pg::exec(db, "BEGIN");
    if (request.expected_revision && request.icps.size() == 1 &&
        request.mode == WriteMode::replace) {
      if (auto problem = replace_if(db, request.icps.front(), *request.expected_revision)) {
        return *problem;
      }
    } else {
      // Locks the rows the batch touches, in (organization, id) order so that
      // two batches never wait for each other crosswise.
      using Key = std::pair<std::string_view, std::string_view>;
      std::map<Key, std::optional<std::uint64_t>> stored;
      for (const auto& icp : request.icps) stored.try_emplace(Key{icp.organization, icp.id});
      for (auto& [key, revision] : stored) {
        revision = stored_revision(db, sql::kLockRevision, key.first, key.second);
      }
      auto revision_of = [&](const Icp& icp) { return stored.at(Key{icp.organization, icp.id}); };
      if (auto problem = detail::check_batch(request, revision_of)) return *problem;
      for (const auto& icp : request.icps) {
        if (auto problem = write_one(db, icp, request.mode)) return *problem;
      }
    }
    pg::exec(db, "COMMIT");
    return {};
  } catch (const pg::Failure& failure) {
    return postgres_error("write ICPs", failure);
  }

  Result<bool> erase(const EraseIcpRequest& request) override try {
    const auto connection = pool_.take();
    PGconn* db = connection.get();
    if (!request.expected_revision) {
      // One statement (its own transaction); memberships go by cascade.
      pg::Params<2> params;
      params.text(request.id).text(request.organization);
      const auto result = pg::exec_prepared(db, sql::kErase, params, PGRES_COMMAND_OK);
      return pg::rows_changed(result.get()) > 0;
    }
    pg::exec(db, "BEGIN");
    pg::Params<3> params;
    params.text(request.id).int8(to_column(*request.expected_revision)).text(request.organization);
    const auto result = pg::exec_prepared(db, sql::kEraseIf, params, PGRES_COMMAND_OK);
    if (pg::rows_changed(result.get()) == 0) {
      // Nothing erased: tell "no such ICP" from "another revision".
      if (!stored_revision(db, sql::kRevision, request.organization, request.id)) return false;
      return detail::stale(request.id);
    }
    pg::exec(db, "COMMIT");
    return true;
  } catch (const pg::Failure& failure) {
    return postgres_error("erase an ICP", failure);
  }

  Result<std::vector<Icp>> list(const ListIcpsRequest& request) override try {
    const auto connection = pool_.take();
    const std::int64_t after_created_at = request.after ? to_unix_ms(request.after->created_at)
                                                        : std::numeric_limits<std::int64_t>::max();
    const std::string_view after_id = request.after ? request.after->id : std::string_view{};
    const auto limit = static_cast<std::int64_t>(
        std::min<std::size_t>(request.limit, std::numeric_limits<std::int64_t>::max()));
    std::vector<Icp> page;
    detail::ListBounds bounds(request);
    // Row by row, so that a page cut short by bytes never holds the rest.
    const auto on_row = [&](const PGresult* result, int row) {
      page.push_back(decode(result, row, request.organization));
      bounds.add(page.back());
      return bounds.wants_more();
    };
    if (request.member) {
      pg::Params<5> params;
      params.text(*request.member)
          .int8(after_created_at)
          .text(after_id)
          .int8(limit)
          .text(request.organization);
      pg::for_each_row(connection.get(), sql::kListForMember, params, on_row);
    } else {
      pg::Params<4> params;
      params.int8(after_created_at).text(after_id).int8(limit).text(request.organization);
      pg::for_each_row(connection.get(), sql::kListAll, params, on_row);
    }
    return page;
  } catch (const pg::Failure& failure) {
    return postgres_error("list ICPs", failure);
  } catch (const DamagedIcp&) {
    return detail::damaged_icp("PostgreSQL");
  }

 private:
  /// The compare-and-swap: one UPDATE that matches only the expected revision.
  static std::optional<Error> replace_if(PGconn* db, const Icp& icp, std::uint64_t expected) {
    const auto doc = to_json(icp);
    pg::Params<6> params;
    params.text(icp.id)
        .int8(to_unix_ms(icp.created_at))
        .text(doc)
        .int8(to_column(icp.revision))
        .int8(to_column(expected))
        .text(icp.organization);
    const auto result = pg::exec_prepared(db, sql::kReplaceIf, params, PGRES_COMMAND_OK);
    if (pg::rows_changed(result.get()) == 0) {
      if (!stored_revision(db, sql::kRevision, icp.organization, icp.id)) {
        return Error{Errc::not_found, fmt::format("ICP not found: {}", icp.id)};
      }
      return detail::stale(icp.id);
    }
    set_members(db, icp);
    return std::nullopt;
  }

  static std::optional<Error> write_one(PGconn* db, const Icp& icp, WriteMode mode) {
    const auto doc = to_json(icp);
    pg::Params<5> params;
    params.text(icp.id)
        .int8(to_unix_ms(icp.created_at))
        .text(doc)
        .int8(to_column(icp.revision))
        .text(icp.organization);
    try {
      // Insert mode never overwrites: an ICP inserted by a concurrent batch
      // since the check is a unique violation, reported as the check would.
      const auto& statement = mode == WriteMode::insert ? sql::kInsert : sql::kUpsert;
      (void)pg::exec_prepared(db, statement, params, PGRES_COMMAND_OK);
    } catch (const pg::Failure& failure) {
      if (failure.sqlstate() != "23505") throw;
      return Error{Errc::conflict, fmt::format("ICP already exists: {}", icp.id)};
    }
    set_members(db, icp);
    return std::nullopt;
  }

  static void set_members(PGconn* db, const Icp& icp) {
    {
      pg::Params<2> params;
      params.text(icp.id).text(icp.organization);
      (void)pg::exec_prepared(db, sql::kEraseMembers, params, PGRES_COMMAND_OK);
    }
    if (icp.user_ids.empty()) return;
    boost::json::array user_ids;
    user_ids.reserve(icp.user_ids.size());
    for (const auto& user_id : icp.user_ids) user_ids.emplace_back(user_id);
    const auto members = boost::json::serialize(user_ids);
    pg::Params<4> params;
    params.text(icp.id).int8(to_unix_ms(icp.created_at)).text(members).text(icp.organization);
    (void)pg::exec_prepared(db, sql::kInsertMembers, params, PGRES_COMMAND_OK);
  }

  ConnectionPool pool_;
};

// ---- opening ----------------------------------------------------------------

std::optional<int> single_int(PGconn* db, const char* query) {
  const auto result = pg::exec(db, query, PGRES_TUPLES_OK);
  if (PQntuples(result.get()) == 0 || PQgetisnull(result.get(), 0, 0) != 0) return std::nullopt;
  return std::stoi(PQgetvalue(result.get(), 0, 0));
}

/// Brings the schema to kPostgresSchemaVersion in one transaction under the
/// migration lock; a newer version or another application's `icps` table is
/// refused untouched.
std::optional<Error> migrate(PGconn* db, const Session& session) {
  pg::exec(db, "BEGIN");
  const auto lock =
      fmt::format("SELECT pg_advisory_xact_lock({})", detail::postgres::kMigrationLockKey);
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
  pg::exec(db, std::string(detail::postgres::kCreateVersionTable).c_str());
  const int version = single_int(db, "SELECT max(version) FROM icp_schema_version").value_or(0);
  if (version > kPostgresSchemaVersion) {
    return Error{Errc::internal,
                 fmt::format("PostgreSQL store: the database has ICP schema version {}, newer "
                             "than the {} this build of icp supports: use a newer icp",
                             version, kPostgresSchemaVersion)};
  }
  for (int step = version; step < kPostgresSchemaVersion; ++step) {
    pg::exec(db,
             std::string(detail::postgres::kMigrations.at(static_cast<std::size_t>(step))).c_str());
    const auto record =
        fmt::format("INSERT INTO icp_schema_version (version) VALUES ({})", step + 1);
    pg::exec(db, record.c_str());
  }
  pg::exec(db, "COMMIT");
  return std::nullopt;
}

}  // namespace

Result<std::shared_ptr<IcpStore>> open_postgres_store(std::string_view url,
                                                      PostgresOptions options) {
  Session session{.url = std::string(url),
                  .schema_identifier = {},
                  .statement_timeout = options.statement_timeout,
                  .connect_timeout = options.acquire_timeout};
  try {
    // Checked first: libpq would otherwise echo a malformed string back.
    char* parse_error = nullptr;
    PQconninfoOption* parsed = PQconninfoParse(session.url.c_str(), &parse_error);
    if (parsed == nullptr) {
      const std::string reason =
          parse_error != nullptr ? pg::one_line(parse_error) : "out of memory";
      PQfreemem(parse_error);
      return Error{
          Errc::internal,
          fmt::format("PostgreSQL store: not a PostgreSQL URL or conninfo string ({})", reason)};
    }
    PQconninfoFree(parsed);

    auto connection = connect(session, false);
    if (!options.schema.empty()) {
      std::unique_ptr<char, decltype(&PQfreemem)> quoted(
          PQescapeIdentifier(connection.get(), options.schema.data(), options.schema.size()),
          &PQfreemem);
      if (!quoted) throw pg::failure_of(connection.get(), nullptr);
      session.schema_identifier = quoted.get();
      const auto set = fmt::format("SET search_path = {}", session.schema_identifier);
      pg::exec(connection.get(), set.c_str());
    }
    if (auto problem = migrate(connection.get(), session)) return *problem;
  } catch (const pg::Failure& failure) {
    return Error{Errc::internal, fmt::format("PostgreSQL store: cannot open the ICP database ({})",
                                             failure.reason())};
  }
  return std::shared_ptr<IcpStore>(std::make_shared<PostgresStore>(std::move(session), options));
}

}  // namespace icp
