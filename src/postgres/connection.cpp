#include "postgres/connection.hpp"

#include "postgres/run_statement.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <poll.h>

#include <algorithm>
#include <array>

namespace icp::detail::postgres {

std::string without_quoted_input(std::string_view message) {
  std::string out;
  out.reserve(message.size());
  while (!message.empty()) {
    const auto open = message.find('"');
    const auto close = open == std::string_view::npos ? open : message.find('"', open + 1);
    if (close == std::string_view::npos) {
      // An unbalanced quote: drop the rest, it may be the input.
      out.append(message.substr(0, open));
      if (open != std::string_view::npos) out.append("\"...");
      break;
    }
    const auto quoted = message.substr(open + 1, close - open - 1);
    out.append(message.substr(0, open + 1));
    out.append(quoted.size() <= 1 ? quoted : "...");
    out.push_back('"');
    message.remove_prefix(close + 1);
  }
  return out;
}

std::string masked(std::string_view text, std::string_view secret) {
  std::string out(text);
  if (secret.empty()) return out;
  for (auto at = out.find(secret); at != std::string::npos; at = out.find(secret, at)) {
    out.replace(at, secret.size(), "********");
    at += 8;
  }
  return out;
}

bool tables_exist(const pg::Connection& connection) {
  const auto result =
      pg::exec(connection,
               "SELECT to_regclass('icps') IS NOT NULL AND to_regclass('icp_members') IS NOT NULL",
               PGRES_TUPLES_OK);
  return std::string_view(PQgetvalue(result.get(), 0, 0)) == "t";
}

pg::Connection connect(const Session& session, bool set_up,
                       std::chrono::steady_clock::time_point deadline) {
  // libpq's connect_timeout is whole seconds, at least 2. Keywords before
  // `dbname` are defaults the URL may override (libpq applies them in order).
  const auto seconds = std::max<std::int64_t>(
      2, std::chrono::ceil<std::chrono::seconds>(session.connect_timeout).count());
  const std::string timeout = std::to_string(seconds);
  // TCP keepalives and tcp_user_timeout: a peer or network that vanished
  // fails the call within about 15 s instead of the kernel's two hours
  // (ignored on Unix sockets). The URL may set them otherwise.
  const std::array<const char*, 9> keywords{"connect_timeout",
                                            "fallback_application_name",
                                            "keepalives",
                                            "keepalives_idle",
                                            "keepalives_interval",
                                            "keepalives_count",
                                            "tcp_user_timeout",
                                            "dbname",
                                            nullptr};
  const std::array<const char*, 9> values{timeout.c_str(),     "icp",  "1", "10", "5", "3", "15000",
                                          session.url.c_str(), nullptr};
  pg::ConnectionPtr handle(PQconnectdbParams(keywords.data(), values.data(), 1));
  if (!handle) throw pg::Failure("out of memory", "", true);
  if (PQstatus(handle.get()) != CONNECTION_OK) {
    throw pg::Failure(masked(pg::one_line(PQerrorMessage(handle.get())), session.password), "",
                      true);
  }
  // libpq prints server notices on stderr by default; a library stays quiet.
  PQsetNoticeProcessor(
      handle.get(), [](void*, const char*) {}, nullptr);
  // Every call waits in poll() with a deadline (pg::await_result), never in
  // a blocking read or write.
  if (PQsetnonblocking(handle.get(), 1) != 0) throw pg::failure_of(handle.get(), nullptr);
  // Setting up answers within what is left of the caller's deadline.
  using Clock = std::chrono::steady_clock;
  auto setup_timeout = session.answer_timeout;
  if (deadline != Clock::time_point::max()) {
    const auto left =
        std::max(std::chrono::milliseconds{1},
                 std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()));
    setup_timeout = setup_timeout.count() > 0 ? std::min(setup_timeout, left) : left;
  }
  pg::Connection connection(std::move(handle), setup_timeout, session.mode);
  if (session.mode->named && set_up) pg::set_up_session(connection);
  connection.set_answer_timeout(session.answer_timeout);
  return connection;
}

std::vector<std::pair<std::string_view, std::int64_t>> library_defaults(const Session& session) {
  // Every wait of the store's statements is bounded by the server: a
  // statement, a row lock, an open transaction whose client went quiet, and
  // (PostgreSQL 14+; older servers have no such row) a statement whose
  // client went away, which would otherwise keep its locks until it ends.
  std::vector<std::pair<std::string_view, std::int64_t>> defaults;
  for (const auto& [name, value] :
       {std::pair{"statement_timeout", session.statement_timeout},
        std::pair{"lock_timeout", session.lock_timeout},
        std::pair{"idle_in_transaction_session_timeout", session.idle_in_transaction_timeout},
        std::pair{"client_connection_check_interval", session.client_connection_check_interval}}) {
    if (value.count() > 0) defaults.emplace_back(name, value.count());
  }
  return defaults;
}

namespace {

/// `text` as an SQL string literal, quoted as the server expects.
std::string literal(const pg::Connection& connection, std::string_view text) {
  const std::unique_ptr<char, decltype(&PQfreemem)> quoted(
      PQescapeLiteral(connection.raw(), text.data(), text.size()), &PQfreemem);
  if (!quoted) throw pg::failure_of(connection.raw(), nullptr);
  return quoted.get();
}

/// 'a', 'b', ...: the names of the library's defaults.
std::string names_of(const std::vector<std::pair<std::string_view, std::int64_t>>& defaults) {
  std::string names;
  for (const auto& [name, value] : defaults) {
    names += fmt::format("{}'{}'", names.empty() ? "" : ", ", name);
  }
  return names;
}

/// Settings nobody but a session set: the server's default, or a value some
/// other client of a pooler left on the backend, which is no operator's.
constexpr std::string_view kUnsetSources = "source IN ('default', 'session')";

}  // namespace

std::string defaults_select(const Session& session, bool local) {
  const auto defaults = library_defaults(session);
  if (defaults.empty()) return {};
  std::string cases;
  for (const auto& [name, value] : defaults) {
    cases += fmt::format(" WHEN '{}' THEN '{}'", name, value);
  }
  return fmt::format(
      "SELECT set_config(name, CASE name{} END, {}) FROM pg_settings WHERE {} AND "
      "name IN ({})",
      cases, local, kUnsetSources, names_of(defaults));
}

std::shared_ptr<const pg::StatementMode> named_mode(const pg::Connection& probe,
                                                    const Session& session) {
  // One round trip: each default the operator left unset, for the session,
  // and the schema; one SELECT each, so that every result has tuples.
  std::vector<std::string> selects;
  if (auto defaults = defaults_select(session, false); !defaults.empty()) {
    selects.push_back(std::move(defaults));
  }
  if (!session.schema_identifier.empty()) {
    selects.push_back(fmt::format("SELECT set_config('search_path', {}, false)",
                                  literal(probe, session.schema_identifier)));
  }
  return std::make_shared<const pg::StatementMode>(
      pg::StatementMode{.named = true,
                        .setup = fmt::format("{}", fmt::join(selects, "; ")),
                        .begin = "BEGIN",
                        .prelude = {}});
}

std::shared_ptr<const pg::StatementMode> unnamed_mode(const pg::Connection& probe,
                                                      const Session& session) {
  pg::StatementMode mode{.named = false, .setup = {}, .begin = "BEGIN", .prelude = {}};
  std::vector<std::string> local_settings;  // set_config(...) calls
  if (const auto defaults = library_defaults(session); !defaults.empty()) {
    const auto query = fmt::format("SELECT name FROM pg_settings WHERE {} AND name IN ({})",
                                   kUnsetSources, names_of(defaults));
    const auto unset = pg::exec(probe, query.c_str(), PGRES_TUPLES_OK);
    for (int row = 0; row < PQntuples(unset.get()); ++row) {
      const std::string_view name = PQgetvalue(unset.get(), row, 0);
      const auto found = std::find_if(defaults.begin(), defaults.end(),
                                      [&](const auto& entry) { return entry.first == name; });
      if (found == defaults.end()) continue;
      mode.begin += fmt::format("; SET LOCAL {} = {}", found->first, found->second);
      local_settings.push_back(
          fmt::format("set_config('{}', '{}', true)", found->first, found->second));
    }
  }
  if (!session.schema_identifier.empty()) {
    mode.begin += fmt::format("; SET LOCAL search_path = {}", session.schema_identifier);
    local_settings.push_back(fmt::format("set_config('search_path', {}, true)",
                                         literal(probe, session.schema_identifier)));
  }
  if (!local_settings.empty()) {
    mode.prelude = fmt::format("SELECT {}", fmt::join(local_settings, ", "));
  }
  return std::make_shared<const pg::StatementMode>(std::move(mode));
}

bool still_open(PGconn* connection) {
  if (PQstatus(connection) != CONNECTION_OK) return false;
  pollfd descriptor{.fd = PQsocket(connection), .events = POLLIN, .revents = 0};
  return descriptor.fd >= 0 && ::poll(&descriptor, 1, 0) == 0;
}

bool is_transient(std::string_view sqlstate) {
  return sqlstate == "40001" || sqlstate == "40P01" || sqlstate == "55P03" || sqlstate == "53300";
}

Error postgres_error(std::string_view operation, const pg::Failure& failure) {
  if (failure.sqlstate() == "42P01") {  // undefined_table
    return Error{Errc::internal,
                 fmt::format("PostgreSQL store: failed to {}: {}", operation, kTablesMissing)};
  }
  if (failure.sqlstate() == "22021" || failure.sqlstate() == "22P05") {
    // character_not_in_repertoire, untranslatable_character: U+0000 or
    // bytes that are not UTF-8, which icp::validate() refuses first.
    return Error{Errc::bad_request,
                 fmt::format("PostgreSQL store: failed to {}: a string holds U+0000 or bytes "
                             "that are not UTF-8, which PostgreSQL cannot store; check writes "
                             "with icp::validate()",
                             operation)};
  }
  if (failure.sqlstate() == "57014") {
    return Error{Errc::unavailable,
                 fmt::format("PostgreSQL store: failed to {}: the statement timeout cancelled it "
                             "({}); raise PostgresOptions::statement_timeout or look for locks",
                             operation, failure.reason())};
  }
  if (failure.sqlstate() == "25006") {  // read_only_sql_transaction
    return Error{Errc::unavailable,
                 fmt::format("PostgreSQL store: failed to {}: the database is read-only (a "
                             "standby, or a primary being switched over); nothing was changed, and "
                             "the next call reconnects (to the primary, if the URL lists it with "
                             "target_session_attrs=read-write)",
                             operation)};
  }
  if (failure.sqlstate() == "26000") {  // invalid_sql_statement_name, inside a transaction
    return Error{Errc::unavailable,
                 fmt::format("PostgreSQL store: failed to {}: {}; nothing was changed, and the "
                             "next call sets up a new session",
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

}  // namespace icp::detail::postgres
