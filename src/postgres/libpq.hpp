#pragma once

// A thin RAII layer over libpq: owned connections and results, parameters in
// binary form, and failures that say whether the connection survived them.

#include <boost/endian/conversion.hpp>
#include <fmt/format.h>
#include <libpq-fe.h>
#include <poll.h>

#include <array>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <exception>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

namespace icp::detail::pg {

struct ConnectionCloser {
  void operator()(PGconn* connection) const noexcept { PQfinish(connection); }
};
using ConnectionPtr = std::unique_ptr<PGconn, ConnectionCloser>;

struct ResultClearer {
  void operator()(PGresult* result) const noexcept { PQclear(result); }
};
using ResultPtr = std::unique_ptr<PGresult, ResultClearer>;

/// What went wrong talking to the server. Thrown inside the store and turned
/// into an Error at its boundary; never crosses the public API.
class Failure : public std::exception {
 public:
  Failure(std::string reason, std::string sqlstate, bool connection_lost, bool transient = false)
      : reason_(std::move(reason)),
        sqlstate_(std::move(sqlstate)),
        connection_lost_(connection_lost),
        transient_(transient) {}
  [[nodiscard]] const char* what() const noexcept override { return reason_.c_str(); }
  /// libpq's or the server's primary message, on one line; no SQL, no values.
  [[nodiscard]] const std::string& reason() const noexcept { return reason_; }
  /// The SQLSTATE, empty when the failure was not the server's answer.
  [[nodiscard]] const std::string& sqlstate() const noexcept { return sqlstate_; }
  /// The connection is unusable (dropped, server shut down, protocol broken).
  [[nodiscard]] bool connection_lost() const noexcept { return connection_lost_; }
  /// Retrying later may succeed though the connection is fine (a pool that
  /// stayed busy).
  [[nodiscard]] bool transient() const noexcept { return transient_; }

 private:
  std::string reason_;
  std::string sqlstate_;
  bool connection_lost_;
  bool transient_;
};

/// libpq messages span lines ("...failed: ...\n\tIs the server running...");
/// an Error message is one line.
inline std::string one_line(std::string_view text) {
  std::string line;
  bool space = false;
  for (const char c : text) {
    if (c == '\n' || c == '\t' || c == '\r' || c == ' ') {
      space = !line.empty();
      continue;
    }
    if (space) line += ' ';
    space = false;
    line += c;
  }
  return line;
}

/// The failure a result (or its absence) stands for.
inline Failure failure_of(PGconn* connection, const PGresult* result) {
  std::string sqlstate;
  std::string reason;
  if (result != nullptr) {
    if (const char* state = PQresultErrorField(result, PG_DIAG_SQLSTATE)) sqlstate = state;
    // The primary message only: DETAIL may quote row values.
    if (const char* primary = PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY)) {
      reason = one_line(primary);
    }
  }
  if (reason.empty()) reason = one_line(PQerrorMessage(connection));
  if (reason.empty()) reason = "no answer from the server";
  // Class 08 is "connection exception"; 57P01-57P03 are shutdowns and
  // "cannot connect now": the session is gone either way. 25006
  // (read_only_sql_transaction) is a session on a standby, or on a primary
  // being demoted: dropped, so that the next connection finds the primary.
  // 26000 here (a prepared statement gone although the store had just
  // prepared it, or inside a transaction) is a session handed on by a pooler.
  const bool lost = PQstatus(connection) != CONNECTION_OK || sqlstate.starts_with("08") ||
                    sqlstate.starts_with("57P") || sqlstate == "25006" || sqlstate == "26000";
  return {std::move(reason), std::move(sqlstate), lost};
}

/// How a connection's statements reach the server. Named: each session
/// prepares them once (the fastest, and what a direct connection or a
/// session pooler keeps). Unnamed: parsed with every call and every setting
/// local to the transaction, so that nothing outlives it: what a transaction
/// pooler (PgBouncer's pool_mode=transaction) needs, as it hands each
/// transaction to any backend and that backend to any other client next.
struct StatementMode {
  bool named = true;
  /// For named statements, the SELECT that sets the session up (the
  /// library's defaults, the schema) before it prepares them: on connecting,
  /// and again on a session that lost them. Empty: nothing to set.
  std::string setup;
  /// Opens an explicit transaction: "BEGIN", and for unnamed statements the
  /// session's settings as SET LOCAL, all in one round trip.
  std::string begin = "BEGIN";
  /// For unnamed statements, a SELECT of set_config(..., true) sent ahead
  /// of a statement outside an explicit transaction, in the same pipeline
  /// (one round trip, one implicit transaction). Empty: nothing to set.
  std::string prelude;
};

/// An open connection in non-blocking mode, and the longest it waits for the
/// server's answer to any one statement: libpq's blocking calls would wait
/// for ever on a backend that stopped answering with its socket still up
/// (SIGSTOP, a hung host behind a live proxy), which keepalives cannot see.
class Connection {
 public:
  Connection(ConnectionPtr handle, std::chrono::milliseconds answer_timeout,
             std::shared_ptr<const StatementMode> mode = std::make_shared<StatementMode>())
      : handle_(std::move(handle)), answer_timeout_(answer_timeout), mode_(std::move(mode)) {}
  [[nodiscard]] PGconn* raw() const noexcept { return handle_.get(); }
  /// 0: no bound of the client's own.
  [[nodiscard]] std::chrono::milliseconds answer_timeout() const noexcept {
    return answer_timeout_;
  }
  void set_answer_timeout(std::chrono::milliseconds timeout) noexcept { answer_timeout_ = timeout; }
  [[nodiscard]] const StatementMode& mode() const noexcept { return *mode_; }
  /// A failure said the session must not be reused though libpq still
  /// counts it open (a standby's session, say): the pool closes it.
  void discard() const noexcept { discarded_ = true; }
  [[nodiscard]] bool discarded() const noexcept { return discarded_; }

 private:
  ConnectionPtr handle_;
  std::chrono::milliseconds answer_timeout_;
  std::shared_ptr<const StatementMode> mode_;
  mutable bool discarded_ = false;  // set from const paths, like libpq's own state
};

/// `failure`, after marking the connection for closing when it was lost.
inline Failure noted(const Connection& connection, Failure failure) {
  if (failure.connection_lost()) connection.discard();
  return failure;
}

/// Sends what libpq still holds and reads until it has a whole result (or
/// the connection failed), so that PQgetResult does not block; past the
/// connection's answer timeout, throws a Failure that counts the connection
/// as lost (the pool discards it: its answer may still come).
inline void await_result(const Connection& connection) {
  constexpr int kTlsSliceMs = 50;
  PGconn* raw = connection.raw();
  const auto timeout = connection.answer_timeout();
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const int unsent = PQflush(raw);  // 0: all sent, 1: more to send, -1: failed
    if (unsent < 0) throw noted(connection, failure_of(raw, nullptr));
    if (unsent == 0 && PQisBusy(raw) == 0) return;
    int wait_ms = -1;
    if (timeout.count() > 0) {
      const auto left =
          std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) {
        throw noted(connection, Failure(fmt::format("no answer from the server within {} ms "
                                                    "(PostgresOptions::answer_timeout)",
                                                    timeout.count()),
                                        "", true, true));
      }
      wait_ms = static_cast<int>(left.count());
    }
    // Over TLS, decrypted input may wait inside OpenSSL with nothing left on
    // the socket, which poll() cannot see: such a connection waits in short
    // slices and reads after each.
    const bool tls = PQsslInUse(raw) != 0;
    if (tls && (wait_ms < 0 || wait_ms > kTlsSliceMs)) wait_ms = kTlsSliceMs;
    pollfd descriptor{.fd = PQsocket(raw),
                      .events = static_cast<short>(POLLIN | (unsent == 1 ? POLLOUT : 0)),
                      .revents = 0};
    if (descriptor.fd < 0) throw noted(connection, failure_of(raw, nullptr));
    const int ready = ::poll(&descriptor, 1, wait_ms);
    if (ready < 0 && errno != EINTR) {
      throw noted(connection, Failure("poll() failed on the connection", "", true));
    }
    // Input is read also while sending: the server may answer (an error)
    // before it has read everything, and libpq needs to see that.
    const bool readable = ready > 0 && (descriptor.revents & (POLLIN | POLLERR | POLLHUP)) != 0;
    if ((readable || tls) && PQconsumeInput(raw) == 0)
      throw noted(connection, failure_of(raw, nullptr));
  }
}

/// The results of what was sent last, the last one returned; throws the
/// first failure (after reading all of them, so the connection is ready for
/// its next statement unless the failure lost it).
inline ResultPtr last_result(const Connection& connection, ExecStatusType expected) {
  ResultPtr last;
  std::exception_ptr failed;
  for (;;) {
    await_result(connection);
    ResultPtr result(PQgetResult(connection.raw()));
    if (!result) break;
    if (!failed && PQresultStatus(result.get()) != expected) {
      failed =
          std::make_exception_ptr(noted(connection, failure_of(connection.raw(), result.get())));
    }
    last = std::move(result);
  }
  if (failed) std::rethrow_exception(failed);
  if (!last) throw noted(connection, failure_of(connection.raw(), nullptr));
  return last;
}

/// Up to N parameters of a prepared statement, in binary form: text as its
/// bytes (no terminator needed), int8 as 8 big-endian bytes. One too many
/// throws std::out_of_range (a bug, which the store reports as internal).
template <std::size_t N>
class Params {
 public:
  Params& text(std::string_view value) {
    values_.at(count_) = value.data() != nullptr ? value.data() : "";
    lengths_.at(count_) = static_cast<int>(value.size());
    ++count_;
    return *this;
  }
  Params& int8(std::int64_t value) {
    std::array<unsigned char, 8> big_endian{};
    boost::endian::store_big_s64(big_endian.data(), value);
    auto& bytes = integers_.at(count_);
    std::memcpy(bytes.data(), big_endian.data(), bytes.size());  // libpq takes char
    values_.at(count_) = bytes.data();
    lengths_.at(count_) = 8;
    ++count_;
    return *this;
  }
  [[nodiscard]] int count() const { return static_cast<int>(count_); }
  [[nodiscard]] const char* const* values() const { return values_.data(); }
  [[nodiscard]] const int* lengths() const { return lengths_.data(); }
  [[nodiscard]] const int* formats() const { return kBinary.data(); }

 private:
  static constexpr std::array<int, N> kBinary = [] {
    std::array<int, N> formats{};
    formats.fill(1);
    return formats;
  }();
  std::array<const char*, N> values_{};
  std::array<int, N> lengths_{};
  std::array<std::array<char, 8>, N> integers_{};
  std::size_t count_ = 0;
};

/// A binary int8 column.
inline std::int64_t int8_at(const PGresult* result, int row, int column) {
  if (PQgetlength(result, row, column) != 8) {
    throw Failure("an int8 column did not hold 8 bytes", "", false);
  }
  std::array<unsigned char, 8> bytes{};
  std::memcpy(bytes.data(), PQgetvalue(result, row, column), bytes.size());
  return boost::endian::load_big_s64(bytes.data());
}

/// A prepared statement's parameters must match its declaration: a mismatch
/// is a bug, found here rather than as a server error.
template <class Statement, std::size_t N>
void check_arity(const Statement& statement, const Params<N>& params) {
  if (params.count() != statement.parameter_count) {
    throw std::logic_error(fmt::format("{}: {} parameters given, {} declared", statement.name,
                                       params.count(), statement.parameter_count));
  }
}

/// A binary text column (its bytes).
inline std::string_view text_at(const PGresult* result, int row, int column) {
  return {PQgetvalue(result, row, column),
          static_cast<std::size_t>(PQgetlength(result, row, column))};
}

/// Runs SQL text without parameters (BEGIN, COMMIT, SET, migrations); the
/// last statement's result.
inline ResultPtr exec(const Connection& connection, const char* sql,
                      ExecStatusType expected = PGRES_COMMAND_OK) {
  if (PQsendQuery(connection.raw(), sql) == 0) {
    throw noted(connection, failure_of(connection.raw(), nullptr));
  }
  return last_result(connection, expected);
}

/// Prepares a statement (PQprepare, bounded like every other call). A
/// statement of that name the session has already (42P05: a pooled backend
/// that another client prepared) is replaced: its text and the tables it
/// names may be anybody's.
template <class Statement>
void prepare(const Connection& connection, const Statement& statement) {
  for (int attempt = 0;; ++attempt) {
    if (PQsendPrepare(connection.raw(), statement.name, statement.sql, statement.parameter_count,
                      statement.parameter_types.data()) == 0) {
      throw noted(connection, failure_of(connection.raw(), nullptr));
    }
    try {
      (void)last_result(connection, PGRES_COMMAND_OK);
      return;
    } catch (const Failure& failure) {
      if (failure.sqlstate() != "42P05" || attempt > 0) throw;  // duplicate_prepared_statement
    }
    // The name is one of the store's constants: no quoting needed.
    (void)exec(connection, fmt::format("DEALLOCATE {}", statement.name).c_str());
  }
}

/// Rows a command changed (UPDATE, DELETE, INSERT).
inline std::size_t rows_changed(PGresult* result) {
  const std::string_view tuples = PQcmdTuples(result);
  std::size_t count = 0;
  std::from_chars(tuples.data(), tuples.data() + tuples.size(), count);
  return count;
}

}  // namespace icp::detail::pg
