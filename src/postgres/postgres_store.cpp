#include <icp/json.hpp>
#include <icp/postgres_store.hpp>

#include "json/stored_icp_reader.hpp"
#include "postgres/connection.hpp"
#include "postgres/libpq.hpp"
#include "postgres/migrations.hpp"
#include "postgres/pool.hpp"
#include "postgres/run_statement.hpp"
#include "postgres/schema.hpp"
#include "store/check_batch.hpp"
#include "store/errors.hpp"
#include "store/list_order.hpp"

#include <boost/json.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <vector>

namespace icp {

static_assert(detail::postgres::kMigrations.size() == kPostgresSchemaVersion);

namespace {

namespace pg = detail::pg;
namespace sql = detail::postgres::sql;
using detail::postgres::ConnectionPool;
using detail::postgres::postgres_error;
using detail::postgres::Session;

std::int64_t to_unix_ms(Timestamp at) { return at.time_since_epoch().count(); }

// Revisions are unsigned 64-bit, bigint is signed: the bit pattern is stored.
std::int64_t to_column(std::uint64_t revision) { return static_cast<std::int64_t>(revision); }

/// The server refused a parameter as text it cannot hold (U+0000, bytes that
/// are not UTF-8): no stored ICP can match it, so a read finds nothing, as
/// on every other store.
bool names_unstorable_text(const pg::Failure& failure) {
  return failure.sqlstate() == "22021";  // character_not_in_repertoire
}

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

std::optional<std::uint64_t> stored_revision(const pg::Connection& connection,
                                             const detail::postgres::Statement& statement,
                                             std::string_view organization, std::string_view id) {
  pg::Params<2> params;
  params.text(id).text(organization);
  const auto result = pg::exec_statement(connection, statement, params, PGRES_TUPLES_OK);
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
    const auto result = pg::exec_statement(connection.get(), *statement, params, PGRES_TUPLES_OK);
    if (PQntuples(result.get()) == 0) return std::optional<Icp>{};
    return std::optional<Icp>{decode(result.get(), 0, request.organization)};
  } catch (const pg::Failure& failure) {
    if (names_unstorable_text(failure)) return std::optional<Icp>{};
    return postgres_error("read an ICP", failure);
  } catch (const DamagedIcp&) {
    return detail::damaged_icp("PostgreSQL");
  }

  [[nodiscard]] std::optional<PoolStats> pool_stats() const override { return pool_.stats(); }

  Result<void> check_health() override try {
    const auto connection = pool_.take();
    pg::begin(connection.get());
    if (!detail::postgres::tables_exist(connection.get())) {
      return Error{Errc::internal,
                   fmt::format("PostgreSQL store: {}", detail::postgres::kTablesMissing)};
    }
    pg::exec(connection.get(), "COMMIT");
    return {};
  } catch (const pg::Failure& failure) {
    return postgres_error("reach the database", failure);
  }

  Result<void> write(const WriteIcpsRequest& request) override try {
    const auto connection = pool_.take();
    const auto& db = connection.get();
    pg::begin(db);
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
    const auto& db = connection.get();
    if (!request.expected_revision) {
      // One statement (its own transaction); memberships go by cascade.
      pg::Params<2> params;
      params.text(request.id).text(request.organization);
      const auto result = pg::exec_statement(db, sql::kErase, params, PGRES_COMMAND_OK);
      return pg::rows_changed(result.get()) > 0;
    }
    pg::begin(db);
    pg::Params<3> params;
    params.text(request.id).int8(to_column(*request.expected_revision)).text(request.organization);
    const auto result = pg::exec_statement(db, sql::kEraseIf, params, PGRES_COMMAND_OK);
    if (pg::rows_changed(result.get()) == 0) {
      // Nothing erased: tell "no such ICP" from "another revision".
      if (!stored_revision(db, sql::kRevision, request.organization, request.id)) return false;
      return detail::stale(request.id);
    }
    pg::exec(db, "COMMIT");
    return true;
  } catch (const pg::Failure& failure) {
    if (names_unstorable_text(failure)) return false;
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
    if (names_unstorable_text(failure)) return std::vector<Icp>{};
    return postgres_error("list ICPs", failure);
  } catch (const DamagedIcp&) {
    return detail::damaged_icp("PostgreSQL");
  }

 private:
  /// The compare-and-swap: one UPDATE that matches only the expected revision.
  static std::optional<Error> replace_if(const pg::Connection& db, const Icp& icp,
                                         std::uint64_t expected) {
    const auto doc = to_json(icp);
    pg::Params<6> params;
    params.text(icp.id)
        .int8(to_unix_ms(icp.created_at))
        .text(doc)
        .int8(to_column(icp.revision))
        .int8(to_column(expected))
        .text(icp.organization);
    const auto result = pg::exec_statement(db, sql::kReplaceIf, params, PGRES_COMMAND_OK);
    if (pg::rows_changed(result.get()) == 0) {
      if (!stored_revision(db, sql::kRevision, icp.organization, icp.id)) {
        return Error{Errc::not_found, fmt::format("ICP not found: {}", icp.id)};
      }
      return detail::stale(icp.id);
    }
    set_members(db, icp);
    return std::nullopt;
  }

  static std::optional<Error> write_one(const pg::Connection& db, const Icp& icp, WriteMode mode) {
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
      (void)pg::exec_statement(db, statement, params, PGRES_COMMAND_OK);
    } catch (const pg::Failure& failure) {
      if (failure.sqlstate() != "23505") throw;
      return Error{Errc::conflict, fmt::format("ICP already exists: {}", icp.id)};
    }
    set_members(db, icp);
    return std::nullopt;
  }

  static void set_members(const pg::Connection& db, const Icp& icp) {
    {
      pg::Params<2> params;
      params.text(icp.id).text(icp.organization);
      (void)pg::exec_statement(db, sql::kEraseMembers, params, PGRES_COMMAND_OK);
    }
    if (icp.user_ids.empty()) return;
    boost::json::array user_ids;
    user_ids.reserve(icp.user_ids.size());
    for (const auto& user_id : icp.user_ids) user_ids.emplace_back(user_id);
    const auto members = boost::json::serialize(user_ids);
    pg::Params<4> params;
    params.text(icp.id).int8(to_unix_ms(icp.created_at)).text(members).text(icp.organization);
    (void)pg::exec_statement(db, sql::kInsertMembers, params, PGRES_COMMAND_OK);
  }

  ConnectionPool pool_;
};

/// The session every connection of a store for `url` gets, after checking
/// the database's schema (and migrating it when `options.migrate`) on a
/// connection of its own.
Result<Session> open_session(std::string_view url, const PostgresOptions& options) {
  Session session{.url = std::string(url),
                  .schema_identifier = {},
                  .statement_timeout = options.statement_timeout,
                  .lock_timeout = options.lock_timeout,
                  .idle_in_transaction_timeout = options.idle_in_transaction_timeout,
                  .client_connection_check_interval = options.client_connection_check_interval,
                  .connect_timeout = options.acquire_timeout,
                  .answer_timeout = options.answer_timeout};
  try {
    // Checked first: libpq would otherwise echo a malformed string back.
    char* parse_error = nullptr;
    PQconninfoOption* parsed = PQconninfoParse(session.url.c_str(), &parse_error);
    if (parsed == nullptr) {
      // libpq quotes the string, password and all: only its words are kept.
      const std::string reason =
          parse_error != nullptr ? detail::postgres::without_quoted_input(pg::one_line(parse_error))
                                 : "out of memory";
      PQfreemem(parse_error);
      return Error{
          Errc::internal,
          fmt::format("PostgreSQL store: not a PostgreSQL URL or conninfo string ({})", reason)};
    }
    for (const auto* option = parsed; option->keyword != nullptr; ++option) {
      if (std::string_view(option->keyword) == "password" && option->val != nullptr) {
        session.password = option->val;
      }
    }
    PQconninfoFree(parsed);

    // Unnamed mode until the mode is known: this connection sets nothing
    // that outlives a transaction, whatever pools it.
    session.mode = std::make_shared<const pg::StatementMode>(
        pg::StatementMode{.named = false, .setup = {}, .begin = "BEGIN", .prelude = {}});
    const auto connection = detail::postgres::connect(session, false);
    if (!options.schema.empty()) {
      const std::unique_ptr<char, decltype(&PQfreemem)> quoted(
          PQescapeIdentifier(connection.raw(), options.schema.data(), options.schema.size()),
          &PQfreemem);
      if (!quoted) throw pg::failure_of(connection.raw(), nullptr);
      session.schema_identifier = quoted.get();
    }
    if (auto problem = detail::postgres::migrate(connection, session, options.migrate)) {
      return *problem;
    }
    session.mode = options.transaction_pooling ? detail::postgres::unnamed_mode(connection, session)
                                               : detail::postgres::named_mode(connection, session);
  } catch (const pg::Failure& failure) {
    return Error{Errc::internal,
                 fmt::format("PostgreSQL store: cannot open the ICP database ({})",
                             detail::postgres::masked(failure.reason(), session.password))};
  }
  return session;
}

}  // namespace

// By value, as the public declaration has it since its first release.
Result<std::shared_ptr<IcpStore>> open_postgres_store(
    std::string_view url,
    PostgresOptions options) {  // NOLINT(performance-unnecessary-value-param)
  auto session = open_session(url, options);
  if (!session) return session.error();
  return std::shared_ptr<IcpStore>(std::make_shared<PostgresStore>(std::move(*session), options));
}

Result<void> migrate_postgres(std::string_view url, PostgresOptions options) {
  options.migrate = true;
  auto session = open_session(url, options);
  if (!session) return session.error();
  return {};
}

}  // namespace icp
