#pragma once

// A thin RAII layer over libpq: owned connections and results, parameters in
// binary form, and failures that say whether the connection survived them.

#include <fmt/format.h>
#include <libpq-fe.h>
#include <boost/endian/conversion.hpp>

#include <array>
#include <charconv>
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
  // "cannot connect now": the session is gone either way.
  const bool lost = PQstatus(connection) != CONNECTION_OK || sqlstate.starts_with("08") ||
                    sqlstate.starts_with("57P");
  return {std::move(reason), std::move(sqlstate), lost};
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

/// Runs a prepared statement; binary results. Throws Failure unless the
/// result has the `expected` status.
template <class Statement, std::size_t N>
ResultPtr exec_prepared(PGconn* connection, const Statement& statement, const Params<N>& params,
                        ExecStatusType expected) {
  check_arity(statement, params);
  ResultPtr result(PQexecPrepared(connection, statement.name, params.count(), params.values(),
                                  params.lengths(), params.formats(), 1));
  if (!result || PQresultStatus(result.get()) != expected) {
    throw failure_of(connection, result.get());
  }
  return result;
}

/// Runs a prepared statement in single-row mode, handing `on_row` one row at a
/// time (a result of one row) while it returns true: a caller that stops
/// early holds no more than one row in memory. The rows after that are read
/// and dropped, so the connection is ready for its next query either way
/// (the server still sends them: memory is bounded, not the server's work).
/// Throws Failure when the statement fails, or what `on_row` threw.
template <class Statement, std::size_t N, class OnRow>
void for_each_row(PGconn* connection, const Statement& statement, const Params<N>& params,
                  OnRow on_row) {
  check_arity(statement, params);
  if (PQsendQueryPrepared(connection, statement.name, params.count(), params.values(),
                          params.lengths(), params.formats(), 1) == 0) {
    throw failure_of(connection, nullptr);
  }
  // Can only fail right after a send; then the rows simply come all at once.
  (void)PQsetSingleRowMode(connection);
  bool wanted = true;
  std::exception_ptr thrown;  // the first failure, of the statement or of on_row
  while (ResultPtr result{PQgetResult(connection)}) {
    const auto status = PQresultStatus(result.get());
    if (status == PGRES_SINGLE_TUPLE || status == PGRES_TUPLES_OK) {
      for (int row = 0; wanted && row < PQntuples(result.get()); ++row) {
        try {
          wanted = on_row(result.get(), row);
        } catch (...) {
          thrown = std::current_exception();
          wanted = false;
        }
      }
    } else if (!thrown && wanted) {
      // An error after the caller stopped (a statement timeout while the
      // rest streams in) fails nothing it kept; a lost connection is seen by
      // the pool's own status check.
      thrown = std::make_exception_ptr(failure_of(connection, result.get()));
      wanted = false;
    }
  }
  if (thrown) std::rethrow_exception(thrown);
}

/// Runs SQL text without parameters (BEGIN, COMMIT, SET, migrations).
inline ResultPtr exec(PGconn* connection, const char* sql,
                      ExecStatusType expected = PGRES_COMMAND_OK) {
  ResultPtr result(PQexec(connection, sql));
  if (!result || PQresultStatus(result.get()) != expected) {
    throw failure_of(connection, result.get());
  }
  return result;
}

/// Rows a command changed (UPDATE, DELETE, INSERT).
inline std::size_t rows_changed(PGresult* result) {
  const std::string_view tuples = PQcmdTuples(result);
  std::size_t count = 0;
  std::from_chars(tuples.data(), tuples.data() + tuples.size(), count);
  return count;
}

}  // namespace icp::detail::pg
