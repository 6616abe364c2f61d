#pragma once

// Test-side access to the PostgreSQL server: a connection of the test's own
// (to look at, lock or break what the store does) and scratch schemas.

#include "postgres/libpq.hpp"

#include <catch2/catch.hpp>
#include <unistd.h>

#include <atomic>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace icp::test {

/// One libpq connection for the test itself. Every query must succeed.
class PgSession {
 public:
  explicit PgSession(const std::string& url) : connection_(PQconnectdb(url.c_str())) {
    REQUIRE(PQstatus(connection_.get()) == CONNECTION_OK);
    PQsetNoticeProcessor(
        connection_.get(), [](void*, const char*) {}, nullptr);
  }

  /// Runs SQL; the rows of its last statement, each as its columns' text.
  std::vector<std::vector<std::string>> query(const std::string& sql) {
    const detail::pg::ResultPtr result(PQexec(connection_.get(), sql.c_str()));
    const auto status = PQresultStatus(result.get());
    INFO(sql << ": " << PQerrorMessage(connection_.get()));
    REQUIRE((status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK));
    std::vector<std::vector<std::string>> rows;
    for (int row = 0; row < PQntuples(result.get()); ++row) {
      auto& columns = rows.emplace_back();
      for (int column = 0; column < PQnfields(result.get()); ++column) {
        columns.emplace_back(PQgetvalue(result.get(), row, column));
      }
    }
    return rows;
  }

  [[nodiscard]] PGconn* raw() const { return connection_.get(); }

  /// The single value of a one-row, one-column query.
  std::string value(const std::string& sql) {
    const auto rows = query(sql);
    REQUIRE(rows.size() == 1);
    REQUIRE(rows[0].size() == 1);
    return rows[0][0];
  }

 private:
  detail::pg::ConnectionPtr connection_;
};

/// A schema name of its own for one store, dropped (with everything in it)
/// at scope exit.
class ScratchSchema {
 public:
  explicit ScratchSchema(std::string url) : url_(std::move(url)) {
    static std::atomic<int> counter{0};
    name_ = "icp_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++);
    PgSession(url_).query("DROP SCHEMA IF EXISTS " + name_ + " CASCADE");
  }
  ScratchSchema(const ScratchSchema&) = delete;
  ScratchSchema& operator=(const ScratchSchema&) = delete;
  ScratchSchema(ScratchSchema&&) = delete;
  ScratchSchema& operator=(ScratchSchema&&) = delete;
  ~ScratchSchema() {
    // No REQUIRE in a destructor: a failed drop leaves a schema behind, no more.
    const detail::pg::ConnectionPtr connection(PQconnectdb(url_.c_str()));
    PQsetNoticeProcessor(
        connection.get(), [](void*, const char*) {}, nullptr);
    const std::string drop = "DROP SCHEMA IF EXISTS " + name_ + " CASCADE";
    const detail::pg::ResultPtr ignored(PQexec(connection.get(), drop.c_str()));
  }
  [[nodiscard]] const std::string& name() const { return name_; }

 private:
  std::string url_;
  std::string name_;
};

/// `url` with one more libpq parameter, in URL or conninfo form alike.
inline std::string with_parameter(const std::string& url, std::string_view key,
                                  std::string_view value) {
  if (url.starts_with("postgresql://") || url.starts_with("postgres://")) {
    const char separator = url.find('?') == std::string::npos ? '?' : '&';
    return url + separator + std::string(key) + "=" + std::string(value);
  }
  return url + " " + std::string(key) + "=" + std::string(value);
}

}  // namespace icp::test
