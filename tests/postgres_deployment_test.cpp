// The PostgreSQL store in the deployments production runs: behind PgBouncer
// in transaction mode, as a role that may only read and write rows, on a
// database that turned read-only, and under the operator's own settings.
// ICP_TEST_PGBOUNCER_TRANSACTION (scripts/with-postgres --pgbouncer) names
// the pooler; its tests fail without it when ICP_TEST_REQUIRE_PGBOUNCER=1.

#include <icp/id.hpp>
#include <icp/postgres_store.hpp>
#include <icp/testing/store_conformance.hpp>

#include "test_stores.hpp"

#include <fmt/format.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <vector>

#ifdef ICP_TEST_WITH_POSTGRES

namespace {

using icp::test::PgSession;
using icp::test::ScratchSchema;
using icp::test::with_parameter;
using namespace std::chrono_literals;

std::string server_url() {
  const auto url = icp::test::postgres_url();
  REQUIRE(url.has_value());
  return *url;
}

/// The transaction pooler, or nullopt (the test then passes as skipped,
/// unless the run requires PgBouncer).
std::optional<std::string> pooler_url() {
  auto url = icp::test::pgbouncer_transaction_url();
  const char* required = std::getenv("ICP_TEST_REQUIRE_PGBOUNCER");
  if (!url) {
    REQUIRE_FALSE((required != nullptr && std::string_view(required) == "1"));
    WARN(
        "PgBouncer tests skipped: set ICP_TEST_PGBOUNCER_TRANSACTION (scripts/with-postgres "
        "--pgbouncer)");
  }
  return url;
}

std::shared_ptr<icp::IcpStore> open_store(const std::string& url,
                                          const icp::PostgresOptions& options) {
  auto store = icp::open_postgres_store(url, options);
  INFO((store ? std::string() : store.error().message));
  REQUIRE(store.has_value());
  return *store;
}

icp::Icp new_icp() {
  auto icp = icp::testing::spec_example();
  icp.id = icp::new_icp_id();
  icp.user_ids = {"user_abc123"};
  icp.revision = icp::new_revision();
  return icp;
}

/// What a client of the pooler sees of the session it is given: settings
/// and prepared statements another client left there would show here.
std::string pooled_session_state(PgSession& client) {
  return client.value(
      "SELECT current_setting('statement_timeout') || ' ' || current_setting('lock_timeout') "
      "|| ' ' || current_setting('search_path') || ' ' || (SELECT count(*) FROM "
      "pg_prepared_statements)");
}

/// Makes the pooler replace every backend it holds for `database` once it
/// is released, as `server_lifetime` does (its admin console's RECONNECT).
void recycle_backends(const std::string& pooler, std::string_view database) {
  PgSession console(pooler.substr(0, pooler.rfind('/') + 1) + "pgbouncer");
  console.query(database.empty() ? std::string("RECONNECT")
                                 : fmt::format("RECONNECT {}", database));
}

/// A role of the test's own, dropped (with what it owns and was granted) at
/// scope exit.
class ScratchRole {
 public:
  explicit ScratchRole(std::string_view purpose)
      : name_(fmt::format("icp_{}_{}_{}", purpose, ::getpid(), next_number())) {
    admin_.query(fmt::format("CREATE ROLE {} LOGIN", name_));
  }
  ScratchRole(const ScratchRole&) = delete;
  ScratchRole& operator=(const ScratchRole&) = delete;
  ScratchRole(ScratchRole&&) = delete;
  ScratchRole& operator=(ScratchRole&&) = delete;
  ~ScratchRole() {
    // Its sessions first: a role with sessions cannot be dropped.
    const std::string drop = fmt::format(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '{0}';"
        "DROP OWNED BY {0}; DROP ROLE {0}",
        name_);
    const icp::detail::pg::ResultPtr ignored(PQexec(admin_.raw(), drop.c_str()));
  }
  [[nodiscard]] const std::string& name() const { return name_; }
  /// The test server's URL, logging in as this role.
  [[nodiscard]] std::string url() const { return with_parameter(server_url(), "user", name_); }
  PgSession& admin() { return admin_; }

 private:
  static int next_number() {
    static std::atomic<int> counter{0};
    return counter++;
  }
  PgSession admin_{server_url()};
  std::string name_;
};

/// A database of the test's own, dropped (its sessions ended) at scope exit.
class ScratchDatabase {
 public:
  explicit ScratchDatabase(std::string_view purpose)
      : name_(fmt::format("icp_{}_{}", purpose, ::getpid())) {
    admin_.query(fmt::format("DROP DATABASE IF EXISTS {} WITH (FORCE)", name_));
    admin_.query(fmt::format("CREATE DATABASE {}", name_));
  }
  ScratchDatabase(const ScratchDatabase&) = delete;
  ScratchDatabase& operator=(const ScratchDatabase&) = delete;
  ScratchDatabase(ScratchDatabase&&) = delete;
  ScratchDatabase& operator=(ScratchDatabase&&) = delete;
  ~ScratchDatabase() {
    const auto drop = fmt::format("DROP DATABASE IF EXISTS {} WITH (FORCE)", name_);
    const icp::detail::pg::ResultPtr ignored(PQexec(admin_.raw(), drop.c_str()));
  }
  [[nodiscard]] const std::string& name() const { return name_; }

 private:
  PgSession admin_{server_url()};
  std::string name_;
};

/// Grants what a runtime role needs on a migrated schema: no more.
void grant_runtime(PgSession& admin, const std::string& schema, const std::string& role) {
  admin.query(fmt::format(
      "GRANT USAGE ON SCHEMA {0} TO {1}; GRANT SELECT ON {0}.icp_schema_version TO {1}; "
      "GRANT SELECT, INSERT, UPDATE, DELETE ON {0}.icps, {0}.icp_members TO {1}",
      schema, role));
}

}  // namespace

TEST_CASE("postgres deployment: behind a transaction pooler nothing outlives a transaction",
          "[postgres]") {
  const auto pooler = pooler_url();
  if (!pooler) return;
  ScratchSchema schema(server_url());
  const auto store = open_store(*pooler, {.schema = schema.name(), .transaction_pooling = true});
  PgSession client(*pooler);
  const auto untouched = pooled_session_state(client);
  for (int round = 0; round < 20; ++round) {
    const auto icp = new_icp();
    REQUIRE(store->write({.icps = std::vector{icp}}).has_value());
    REQUIRE(store->get({.id = icp.id, .organization = icp.organization}).value());
    REQUIRE(store->list({.member = "user_abc123", .limit = 5}).has_value());
    REQUIRE(store->erase({.id = icp.id, .expected_revision = icp.revision}).value());
    REQUIRE(store->check_health().has_value());
    // Another client of the pooler, likely given the backend the store just
    // used, finds it as a fresh session would be.
    CHECK(pooled_session_state(client) == untouched);
  }
}

TEST_CASE(
    "postgres deployment: backends a transaction pooler recycles mid-run: never a wrong "
    "answer, at worst unavailable",
    "[postgres]") {
  // RECONNECT may close a backend still logging in, which PgBouncer counts
  // as a failed login: it then refuses the clients waiting for one
  // ("server login has been failing"), a 503 to retry. Never anything else.
  // A database of its own: the pool that refuses is this test's alone.
  const auto pooler = pooler_url();
  if (!pooler) return;
  const ScratchDatabase database("recycled");
  const auto pooled = pooler->substr(0, pooler->rfind('/') + 1) + database.name();
  const auto store = open_store(pooled, {.transaction_pooling = true});
  std::atomic<bool> done{false};
  std::atomic<int> calls{0};
  std::atomic<int> unavailable{0};
  std::mutex mutex;
  std::vector<std::string> wrong;  // anything but an answer or `unavailable`
  auto round = [&] {
    auto icp = new_icp();
    const auto written = store->write({.icps = std::vector{icp}});
    const auto found = written ? store->get({.id = icp.id})
                               : icp::Result<std::optional<icp::Icp>>{written.error()};
    const auto listed = store->list({.member = "user_abc123", .limit = 3});
    ++calls;
    auto note = [&](const icp::Error& error) {
      if (error.code == icp::Errc::unavailable) {
        ++unavailable;
        return;
      }
      const std::lock_guard lock(mutex);
      wrong.push_back(error.message);
    };
    if (!found) note(found.error());
    if (!listed) note(listed.error());
    if (found && *found != icp) {
      const std::lock_guard lock(mutex);
      wrong.emplace_back("a wrong ICP");
    }
  };
  std::vector<std::jthread> workers;
  for (int worker = 0; worker < 4; ++worker) {
    workers.emplace_back([&] {
      while (!done) round();
    });
  }
  for (int recycle = 0; recycle < 5; ++recycle) {
    std::this_thread::sleep_for(100ms);
    recycle_backends(*pooler, database.name());
  }
  done = true;
  workers.clear();
  CHECK(wrong.empty());
  INFO(calls << " rounds, " << unavailable << " unavailable");
  CHECK(calls - unavailable > 10);
  // The recycling over, every call answers.
  unavailable = 0;
  for (int again = 0; again < 10; ++again) round();
  CHECK(unavailable == 0);
  CHECK(wrong.empty());
}

TEST_CASE("postgres deployment: a session that lost its prepared statements prepares them again",
          "[postgres]") {
  // Prepared statements behind a transaction pooler (the wrong setting): a
  // recycled backend has none of them, nor the session's settings. A
  // database of its own, so that no other test's pool shares its backends.
  const auto pooler = pooler_url();
  if (!pooler) return;
  const ScratchDatabase database("named");
  const auto pooled = pooler->substr(0, pooler->rfind('/') + 1) + database.name();
  const auto store = open_store(pooled, {.pool_size = 1, .schema = "icp"});
  const auto icp = new_icp();
  REQUIRE(store->write({.icps = std::vector{icp}}).has_value());
  REQUIRE(store->get({.id = icp.id}).value());
  auto next = icp;
  SECTION("a read after the recycle prepares again and answers") {
    for (int recycle = 0; recycle < 3; ++recycle) {
      recycle_backends(*pooler, database.name());
      const auto found = store->get({.id = icp.id});
      INFO((found ? std::string() : found.error().message));
      REQUIRE(found.has_value());
      CHECK(found->has_value());
      next.revision = icp::new_revision();
      const auto written = store->write({.icps = std::vector{next}});
      INFO((written ? std::string() : written.error().message));
      CHECK(written.has_value());
    }
  }
  SECTION("a write after the recycle fails as unavailable, changing nothing; the next one works") {
    for (int recycle = 0; recycle < 3; ++recycle) {
      recycle_backends(*pooler, database.name());
      next.revision = icp::new_revision();
      const auto cut = store->write({.icps = std::vector{next}});
      REQUIRE_FALSE(cut.has_value());
      CHECK(cut.error().code == icp::Errc::unavailable);
      CHECK_THAT(cut.error().message, Catch::Contains("nothing was changed"));
      CHECK(store->get({.id = icp.id}).value()->revision != next.revision);
      const auto written = store->write({.icps = std::vector{next}});
      INFO((written ? std::string() : written.error().message));
      CHECK(written.has_value());
    }
  }
}

TEST_CASE("postgres deployment: a role that may only read and write rows serves a migrated schema",
          "[postgres]") {
  ScratchSchema schema(server_url());
  ScratchRole runtime("runtime");
  SECTION("before the owner migrates, it is told what to run") {
    const auto refused =
        icp::open_postgres_store(runtime.url(), {.schema = schema.name(), .migrate = false});
    REQUIRE_FALSE(refused.has_value());
    CHECK_THAT(refused.error().message, Catch::Contains("schema is at version 0") &&
                                            Catch::Contains("icpctl migrate --db URL"));
  }
  SECTION("after it, every operation works, and opening needs no CREATE") {
    REQUIRE(icp::migrate_postgres(server_url(), {.schema = schema.name()}).has_value());
    REQUIRE(icp::migrate_postgres(server_url(), {.schema = schema.name()}).has_value());  // again
    grant_runtime(runtime.admin(), schema.name(), runtime.name());
    // migrate = true, the default: a current schema is only read.
    const auto store = open_store(runtime.url(), {.schema = schema.name()});
    const auto icp = new_icp();
    REQUIRE(store->write({.icps = std::vector{icp}}).has_value());
    CHECK(store->get({.id = icp.id}).value() == icp);
    CHECK(store->list({.member = "user_abc123", .limit = 5}).value().size() == 1);
    CHECK(store->erase({.id = icp.id}).value());
    CHECK(store->check_health().has_value());
  }
  SECTION("a schema it would have to create is refused with the server's reason") {
    const auto refused = icp::open_postgres_store(runtime.url(), {.schema = schema.name()});
    REQUIRE_FALSE(refused.has_value());
    CHECK_THAT(refused.error().message, Catch::Contains("permission denied"));
  }
}

TEST_CASE("postgres deployment: a read-only database is unavailable, and its session is dropped",
          "[postgres]") {
  ScratchSchema schema(server_url());
  ScratchRole reader("read_only");
  REQUIRE(icp::migrate_postgres(server_url(), {.schema = schema.name()}).has_value());
  grant_runtime(reader.admin(), schema.name(), reader.name());
  // What a standby, or a primary being demoted, answers every write with.
  reader.admin().query(
      fmt::format("ALTER ROLE {} SET default_transaction_read_only = on", reader.name()));
  const auto store = open_store(reader.url(), {.min_idle = 0, .schema = schema.name()});
  const auto icp = new_icp();
  CHECK_FALSE(store->get({.id = icp.id}).value().has_value());  // reads serve
  for (const bool transaction : {true, false}) {
    const auto refused = transaction ? store->write({.icps = std::vector{icp}}).error()
                                     : store->erase({.id = icp.id}).error();
    CHECK(refused.code == icp::Errc::unavailable);
    CHECK_THAT(refused.message, Catch::Contains("read-only"));
    CHECK(store->pool_stats()->open == 0);  // the next call connects again
  }
}

TEST_CASE("postgres deployment: the operator's settings win over the store's defaults",
          "[postgres]") {
  ScratchSchema schema(server_url());
  ScratchRole role("settings");
  REQUIRE(icp::migrate_postgres(server_url(), {.schema = schema.name()}).has_value());
  grant_runtime(role.admin(), schema.name(), role.name());
  const auto icp = new_icp();
  {
    const auto store = open_store(server_url(), {.schema = schema.name()});
    REQUIRE(store->write({.icps = std::vector{icp}}).has_value());
  }
  // How long a write waits behind the row lock, and why it gave up.
  const bool pooling = GENERATE(false, true);
  INFO("transaction_pooling " << pooling);
  auto blocked_write = [&](const std::string& url) {
    const auto store = open_store(
        url, {.lock_timeout = 2000ms, .schema = schema.name(), .transaction_pooling = pooling});
    PgSession blocker(server_url());
    blocker.query(fmt::format("BEGIN; SELECT 1 FROM {}.icps WHERE id = '{}' FOR UPDATE",
                              schema.name(), icp.id));
    const auto start = std::chrono::steady_clock::now();
    auto next = icp;
    next.revision = icp::new_revision();
    const auto written = store->write({.icps = std::vector{next}});
    const auto waited = std::chrono::steady_clock::now() - start;
    REQUIRE_FALSE(written.has_value());
    CHECK(written.error().code == icp::Errc::unavailable);
    return std::pair{std::chrono::duration_cast<std::chrono::milliseconds>(waited),
                     written.error().message};
  };
  SECTION("the URL's options=-c statement_timeout") {
    const auto url = with_parameter(role.url(), "options", "-c%20statement_timeout%3D700");
    const auto [waited, message] = blocked_write(url);
    CHECK(waited < 1500ms);
    CHECK_THAT(message, Catch::Contains("statement timeout"));
  }
  SECTION("the role's ALTER ROLE ... SET lock_timeout") {
    role.admin().query(fmt::format("ALTER ROLE {} SET lock_timeout = 600", role.name()));
    const auto [waited, message] = blocked_write(role.url());
    CHECK(waited < 1500ms);
    CHECK_THAT(message, Catch::Contains("lock timeout"));
  }
  SECTION("nothing set: the store's own lock_timeout") {
    const auto [waited, message] = blocked_write(role.url());
    CHECK(waited >= 1900ms);
    CHECK_THAT(message, Catch::Contains("lock timeout"));
  }
}

#endif
