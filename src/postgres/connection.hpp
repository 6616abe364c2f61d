#pragma once

// Opening PostgreSQL connections for the store, and turning libpq's
// failures into the library's errors.

#include <icp/error.hpp>

#include "postgres/libpq.hpp"

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace icp::detail::postgres {

/// What a database whose ICP tables are gone is told (its version row may
/// have survived them).
inline constexpr std::string_view kTablesMissing =
    "the ICP tables (icps, icp_members) are missing though icp_schema_version records them: "
    "restore them from a backup, or drop icp_schema_version so that the next open creates "
    "them empty";

/// Whether both ICP tables exist in the session's schema (call it inside a
/// transaction begun with pg::begin, which sets that schema in unnamed
/// mode). Throws pg::Failure.
[[nodiscard]] bool tables_exist(const pg::Connection& connection);

/// How a failure to open a connection begins its reason.
inline constexpr std::string_view kCannotConnect = "cannot connect: ";

/// Settings every connection gets before its first statement.
struct Session {
  std::string url;
  /// The URL's password, as libpq read it: masked in every message (empty: none).
  std::string password;
  std::string schema_identifier;  ///< quoted; empty: the server's search_path
  std::chrono::milliseconds statement_timeout{0};
  std::chrono::milliseconds lock_timeout{0};
  std::chrono::milliseconds idle_in_transaction_timeout{0};
  std::chrono::milliseconds client_connection_check_interval{0};
  std::chrono::milliseconds connect_timeout{0};
  std::chrono::milliseconds answer_timeout{0};  ///< pg::Connection::answer_timeout
  /// How statements run; named (prepared per session) until open decides.
  std::shared_ptr<const pg::StatementMode> mode = std::make_shared<pg::StatementMode>();
};

/// The server settings the store gives its sessions (PostgreSQL's names,
/// values in milliseconds), those the options leave at 0 left out. Each
/// applies only where its pg_settings source is 'default' (or 'session': a
/// pooled backend's leftover): a value from the server's configuration, the
/// database, the role (ALTER ... SET) or the URL (`options=-c ...`) is the
/// operator's, and wins.
[[nodiscard]] std::vector<std::pair<std::string_view, std::int64_t>> library_defaults(
    const Session& session);

/// A SELECT that sets each of the library's defaults the operator left
/// unset, for the session or (`local`) the transaction; empty: none.
[[nodiscard]] std::string defaults_select(const Session& session, bool local);

/// The setup of a session for named statements (StatementMode::setup).
/// Throws pg::Failure.
[[nodiscard]] std::shared_ptr<const pg::StatementMode> named_mode(const pg::Connection& probe,
                                                                  const Session& session);

/// The statements for unnamed mode, where every setting is local to one
/// transaction: which of the library's defaults apply is read once, here,
/// as every backend behind a pooler has the same role and database.
/// Throws pg::Failure.
[[nodiscard]] std::shared_ptr<const pg::StatementMode> unnamed_mode(const pg::Connection& probe,
                                                                    const Session& session);

/// libpq's message about a connection string it could not parse, without the
/// input it quotes (which may hold the password): each quoted part longer
/// than one character becomes "..." (an option name too: a password typed
/// where a keyword goes is quoted as one).
[[nodiscard]] std::string without_quoted_input(std::string_view message);

/// `text` with every occurrence of `secret` replaced by "********".
[[nodiscard]] std::string masked(std::string_view text, std::string_view secret);

/// A new connection in non-blocking mode. With `set_up`, a named-mode
/// session gets the library's defaults, the schema and every statement
/// prepared (pg::set_up_session); in unnamed mode nothing outlives a
/// transaction, so nothing is set. Setting it up waits for each answer until
/// `deadline` at most (and never longer than the answer timeout). Throws
/// pg::Failure.
[[nodiscard]] pg::Connection connect(
    const Session& session, bool set_up,
    std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max());

/// True when an idle connection is still usable. An idle session never
/// expects data, so anything readable is the server going away (a shutdown
/// notice, then end of file): checked with one poll(), no round trip.
[[nodiscard]] bool still_open(PGconn* connection);

/// SQLSTATEs after which the same call may succeed on the same connection
/// (PostgreSQL's appendix A): serialization failures and deadlocks, a lock
/// not available, too many connections. Connection exceptions (08) and
/// shutdowns (57P) are Failure::connection_lost(), from pg::failure_of.
[[nodiscard]] bool is_transient(std::string_view sqlstate);

/// The Error for a failure during `operation`: what failed, the server's or
/// libpq's reason, and what to do about it. Never SQL text or values.
[[nodiscard]] Error postgres_error(std::string_view operation, const pg::Failure& failure);

}  // namespace icp::detail::postgres
