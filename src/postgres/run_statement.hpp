#pragma once

// Running one of the store's statements the way the connection's
// StatementMode says: by name, preparing it again on a session that lost it,
// or by text with the session's settings pipelined ahead of it.

#include "postgres/libpq.hpp"
#include "postgres/schema.hpp"

#include <exception>
#include <optional>

namespace icp::detail::pg {

/// Sets a named-mode session up (StatementMode::setup) and prepares every
/// statement of the store: on connecting, and again on a session that lost
/// them (whoever lost one lost all, and the settings with them).
inline void set_up_session(const Connection& connection) {
  const auto& setup = connection.mode().setup;
  if (!setup.empty()) (void)exec(connection, setup.c_str(), PGRES_TUPLES_OK);
  for (const auto* statement : postgres::sql::kAll) prepare(connection, *statement);
}

namespace run_detail {

/// Reads one statement's results up to libpq's null, each handed to `take`.
template <class Take>
void read_results(const Connection& connection, Take& take) {
  for (;;) {
    await_result(connection);
    ResultPtr result{PQgetResult(connection.raw())};
    if (!result) return;
    take(std::move(result));
  }
}

/// Whether `result` says the session has no prepared statement of that name
/// (26000): a transaction pooler gave this connection another backend, or
/// something ran DISCARD ALL.
inline bool lost_prepared_statement(const PGresult* result) {
  if (PQresultStatus(result) != PGRES_FATAL_ERROR) return false;
  const char* sqlstate = PQresultErrorField(result, PG_DIAG_SQLSTATE);
  return sqlstate != nullptr && std::string_view(sqlstate) == "26000";
}

template <class Statement, std::size_t N>
void send(const Connection& connection, const Statement& statement, const Params<N>& params) {
  PGconn* raw = connection.raw();
  const int sent =
      connection.mode().named
          ? PQsendQueryPrepared(raw, statement.name, params.count(), params.values(),
                                params.lengths(), params.formats(), 1)
          : PQsendQueryParams(raw, statement.sql, params.count(), statement.parameter_types.data(),
                              params.values(), params.lengths(), params.formats(), 1);
  if (sent == 0) throw noted(connection, failure_of(raw, nullptr));
}

/// Unnamed mode outside a transaction: the prelude and the statement in one
/// pipeline, so that they share one implicit transaction (set_config's
/// local settings last until its end) and one round trip.
template <class Statement, std::size_t N, class Take>
void run_pipelined(const Connection& connection, const Statement& statement,
                   const Params<N>& params, bool single_row, Take& take) {
  PGconn* raw = connection.raw();
  if (PQenterPipelineMode(raw) == 0) throw noted(connection, failure_of(raw, nullptr));
  const char* prelude = connection.mode().prelude.c_str();
  if (PQsendQueryParams(raw, prelude, 0, nullptr, nullptr, nullptr, nullptr, 0) == 0) {
    throw noted(connection, failure_of(raw, nullptr));
  }
  send(connection, statement, params);
  if (PQpipelineSync(raw) == 0) throw noted(connection, failure_of(raw, nullptr));
  std::optional<Failure> prelude_failed;
  auto take_prelude = [&](ResultPtr result) {
    if (!prelude_failed && PQresultStatus(result.get()) != PGRES_TUPLES_OK) {
      prelude_failed = failure_of(raw, result.get());
    }
  };
  read_results(connection, take_prelude);
  // Now the statement's results are next: single-row mode applies to them.
  if (single_row) (void)PQsetSingleRowMode(raw);
  auto take_statement = [&](ResultPtr result) {
    if (PQresultStatus(result.get()) != PGRES_PIPELINE_ABORTED) take(std::move(result));
  };
  read_results(connection, take_statement);
  await_result(connection);
  const ResultPtr sync{PQgetResult(raw)};
  if (!sync || PQresultStatus(sync.get()) != PGRES_PIPELINE_SYNC || PQexitPipelineMode(raw) == 0) {
    throw noted(connection,
                Failure("the server's answer to a pipeline was out of order", "", true));
  }
  if (prelude_failed) throw noted(connection, std::move(*prelude_failed));
}

/// Sends the statement and hands each of its results to `take`; a session
/// that lost its prepared statements is set up again.
template <class Statement, std::size_t N, class Take>
void run(const Connection& connection, const Statement& statement, const Params<N>& params,
         bool single_row, Take& take) {
  check_arity(statement, params);
  PGconn* raw = connection.raw();
  const auto& mode = connection.mode();
  if (!mode.named && !mode.prelude.empty() && PQtransactionStatus(raw) == PQTRANS_IDLE) {
    run_pipelined(connection, statement, params, single_row, take);
    return;
  }
  send(connection, statement, params);
  // Can only fail right after a send; then the rows simply come all at once.
  if (single_row) (void)PQsetSingleRowMode(raw);
  if (!mode.named) {
    read_results(connection, take);
    return;
  }
  bool lost = false;
  auto take_unless_lost = [&](ResultPtr result) {
    if (lost_prepared_statement(result.get())) {
      lost = true;
    } else {
      take(std::move(result));
    }
  };
  read_results(connection, take_unless_lost);
  if (!lost) return;
  // Outside a transaction nothing was done: prepare it again and run it
  // once more. Inside one, the transaction is aborted: the call fails as a
  // lost session, and the connection is replaced by one that prepares all.
  if (PQtransactionStatus(raw) != PQTRANS_IDLE) {
    throw noted(connection, Failure("the session lost its prepared statements (a pooler in "
                                    "transaction mode? see PostgresOptions::transaction_pooling)",
                                    "26000", true, true));
  }
  set_up_session(connection);
  send(connection, statement, params);
  if (single_row) (void)PQsetSingleRowMode(raw);
  read_results(connection, take);
}

}  // namespace run_detail

/// Runs one of the store's statements; binary results. Throws Failure unless
/// its result has the `expected` status.
template <class Statement, std::size_t N>
ResultPtr exec_statement(const Connection& connection, const Statement& statement,
                         const Params<N>& params, ExecStatusType expected) {
  ResultPtr last;
  std::optional<Failure> failed;
  auto take = [&](ResultPtr result) {
    if (!failed && PQresultStatus(result.get()) != expected) {
      failed = noted(connection, failure_of(connection.raw(), result.get()));
    }
    last = std::move(result);
  };
  run_detail::run(connection, statement, params, false, take);
  if (failed) throw std::move(*failed);
  if (!last) throw noted(connection, failure_of(connection.raw(), nullptr));
  return last;
}

/// Runs one of the store's statements in single-row mode, handing `on_row`
/// one row at a time (a result of one row) while it returns true: a caller
/// that stops early holds no more than one row in memory. The rows after
/// that are read and dropped, so the connection is ready for its next query
/// either way (the server still sends them: memory is bounded, not the
/// server's work). Throws Failure when the statement fails, or what `on_row`
/// threw. One answer timeout per result: the whole statement may take
/// longer, as rows keep arriving; the server's statement_timeout bounds it.
template <class Statement, std::size_t N, class OnRow>
void for_each_row(const Connection& connection, const Statement& statement, const Params<N>& params,
                  OnRow on_row) {
  bool wanted = true;
  std::exception_ptr thrown;  // the first failure, of the statement or of on_row
  auto take = [&](ResultPtr result) {
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
      thrown =
          std::make_exception_ptr(noted(connection, failure_of(connection.raw(), result.get())));
      wanted = false;
    }
  };
  run_detail::run(connection, statement, params, true, take);
  if (thrown) std::rethrow_exception(thrown);
}

/// Opens an explicit transaction, with the session's settings when
/// statements are unnamed (StatementMode::begin).
inline void begin(const Connection& connection) {
  (void)exec(connection, connection.mode().begin.c_str());
}

}  // namespace icp::detail::pg
