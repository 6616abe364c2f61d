#include <icp/etag.hpp>
#include <icp/id.hpp>
#include <icp/json.hpp>
#include <icp/service.hpp>
#include <icp/sqlite_store.hpp>
#include <icp/testing/store_conformance.hpp>

#include "sqlite/schema.hpp"
#include "test_stores.hpp"

#include <SQLiteCpp/SQLiteCpp.h>

#include <fstream>
#include <iterator>
#include <sstream>
#include <thread>

namespace {

using icp::test::TempDir;

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_file(const std::filesystem::path& path, std::string_view content) {
  std::ofstream(path, std::ios::binary) << content;
}

std::shared_ptr<icp::IcpStore> open_new(const std::filesystem::path& path) {
  auto store = icp::open_sqlite_store(path, {.create_if_missing = true});
  REQUIRE(store.has_value());
  return *store;
}

/// The query plan SQLite chooses for `sql`, one detail line per step.
std::string query_plan(SQLite::Database& db, const char* sql) {
  SQLite::Statement explain(db, std::string("EXPLAIN QUERY PLAN ") + sql);
  std::string plan;
  while (explain.executeStep()) plan += explain.getColumn(3).getString() + "\n";
  return plan;
}

/// A file holding `icp` as schema `version` (1 or 2) wrote it: a revision
/// column only from version 2.
void write_old_file(const std::filesystem::path& path, int version, const icp::Icp& icp) {
  SQLite::Database db(path.string(), SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
  for (int step = 0; step < version; ++step) {
    db.exec(std::string(icp::detail::sqlite::kMigrations.at(static_cast<std::size_t>(step))));
  }
  const auto created_at = static_cast<std::int64_t>(icp.created_at.time_since_epoch().count());
  SQLite::Statement insert(db, version >= 2 ? "INSERT INTO icps (id, created_at, doc, revision) "
                                              "VALUES (?, ?, ?, ?)"
                                            : "INSERT INTO icps (id, created_at, doc) "
                                              "VALUES (?, ?, ?)");
  insert.bind(1, icp.id);
  insert.bind(2, created_at);
  insert.bind(3, icp::to_json(icp));
  if (version >= 2) insert.bind(4, static_cast<std::int64_t>(icp.revision));
  insert.exec();
  for (const auto& user : icp.user_ids) {
    SQLite::Statement member(
        db, "INSERT INTO icp_members (user_id, created_at, icp_id) VALUES (?, ?, ?)");
    member.bind(1, user);
    member.bind(2, created_at);
    member.bind(3, icp.id);
    member.exec();
  }
  db.exec(fmt::format("PRAGMA user_version = {}", version));
}

}  // namespace

TEST_CASE("sqlite: a missing file is an error unless creation is asked for", "[sqlite]") {
  const TempDir dir;
  const auto path = dir.path() / "missing.db";
  const auto refused = icp::open_sqlite_store(path);
  REQUIRE_FALSE(refused.has_value());
  CHECK(refused.error().code == icp::Errc::not_found);
  CHECK_THAT(refused.error().message, Catch::Contains("no ICP database at") &&
                                          Catch::Contains("missing.db") &&
                                          Catch::Contains("create_if_missing"));
  CHECK_FALSE(std::filesystem::exists(path));

  REQUIRE(icp::open_sqlite_store(path, {.create_if_missing = true}).has_value());
  CHECK(std::filesystem::exists(path));
}

TEST_CASE("sqlite: a new file gets the schema version, WAL and its data persists", "[sqlite]") {
  const TempDir dir;
  const auto path = dir.path() / "icps.db";
  const auto example = icp::testing::spec_example();
  REQUIRE(open_new(path)->write({.icps = {&example, 1}}).has_value());

  SQLite::Database db(path.string());
  CHECK(db.execAndGet("PRAGMA user_version").getInt() == icp::kSqliteSchemaVersion);
  CHECK(db.execAndGet("PRAGMA journal_mode").getString() == "wal");

  auto reopened = icp::open_sqlite_store(path);
  REQUIRE(reopened.has_value());
  CHECK((*reopened)->get({.id = example.id}).value() == example);
}

TEST_CASE("sqlite: files it must not touch are refused and left as they were", "[sqlite]") {
  const TempDir dir;
  const auto path = dir.path() / "other.db";
  std::string expected_message;
  SECTION("not a database") {
    write_file(path, "name,leads\nacme,10\n" + std::string(4096, 'x'));
    expected_message = "is not an SQLite database";
  }
  SECTION("another application's database") {
    {
      SQLite::Database db(path.string(), SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
      db.exec("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)");
    }
    expected_message = "of another application";
  }
  SECTION("a newer schema version") {
    {
      SQLite::Database db(path.string(), SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
      db.exec("CREATE TABLE icps (id TEXT PRIMARY KEY, doc TEXT); PRAGMA user_version = 99");
    }
    expected_message =
        fmt::format("schema version 99, newer than the {} this build of icp supports",
                    icp::kSqliteSchemaVersion);
  }
  const auto before = read_file(path);
  for (const bool create : {false, true}) {
    const auto store = icp::open_sqlite_store(path, {.create_if_missing = create});
    REQUIRE_FALSE(store.has_value());
    CHECK(store.error().code == icp::Errc::internal);
    CHECK_THAT(store.error().message, Catch::Contains(expected_message));
  }
  CHECK(read_file(path) == before);
  CHECK_FALSE(std::filesystem::exists(dir.path() / "other.db-wal"));
}

TEST_CASE("sqlite: a version-1 file is migrated forward and keeps its ICPs", "[sqlite]") {
  const TempDir dir;
  const auto path = dir.path() / "v1.db";
  const auto example = icp::testing::spec_example();
  write_old_file(path, 1, example);  // as the first release wrote it
  const auto store = icp::open_sqlite_store(path);
  REQUIRE(store.has_value());
  CHECK(SQLite::Database(path.string()).execAndGet("PRAGMA user_version").getInt() ==
        icp::kSqliteSchemaVersion);
  const auto loaded = (*store)->get({.id = example.id});
  REQUIRE(loaded.has_value());
  CHECK(*loaded == example);  // revision 0 until its next write
  CHECK((*store)->list({.member = "user_def456"}).value().size() == 1);

  const icp::IcpService service(*store);
  const auto updated =
      service.update(example.id, R"({"name":"Migrated"})", icp::AuthContext::user("user_abc123"),
                     icp::IfMatch::one_of({example.revision}));
  REQUIRE(updated.has_value());
  CHECK(updated->revision != 0);
  CHECK((*store)->get({.id = example.id}).value() == *updated);
  // Opening again finds nothing left to migrate.
  CHECK(icp::open_sqlite_store(path).has_value());
}

TEST_CASE("sqlite: a version-2 file gains organizations and keeps its ICPs in none", "[sqlite]") {
  const TempDir dir;
  const auto path = dir.path() / "v2.db";
  auto example = icp::testing::spec_example();
  example.revision = 42;
  write_old_file(path, 2, example);  // as the release before organizations wrote it
  const auto store = icp::open_sqlite_store(path);
  REQUIRE(store.has_value());
  SQLite::Database db(path.string());
  CHECK(db.execAndGet("PRAGMA user_version").getInt() == icp::kSqliteSchemaVersion);
  // Every key and index leads with the organization.
  for (const char* index : {"icps_by_listing_order", "icp_members_by_icp"}) {
    CAPTURE(index);
    CHECK(db.execAndGet(
                fmt::format("SELECT name FROM pragma_index_info('{}') WHERE seqno = 0", index))
              .getString() == "organization");
  }
  CHECK(
      db.execAndGet("SELECT name FROM pragma_table_info('icp_members') WHERE pk = 1").getString() ==
      "organization");
  CHECK(db.execAndGet("SELECT name FROM pragma_table_info('icps') WHERE pk = 1").getString() ==
        "organization");

  // The rebuilt tables were compacted: no page of the old ones is left.
  CHECK(db.execAndGet("PRAGMA freelist_count").getInt() == 0);
  // The ICP and its members are kept, in no organization.
  CHECK((*store)->get({.id = example.id}).value() == example);
  CHECK_FALSE((*store)->get({.id = example.id, .organization = "org_a"}).value().has_value());
  CHECK((*store)->list({.member = "user_def456"}).value().size() == 1);
  CHECK((*store)->list({.member = "user_def456", .organization = "org_a"}).value().empty());
  const icp::IcpService service(*store);
  const auto read = service.get(example.id, icp::AuthContext::user("user_abc123"));
  REQUIRE(read.has_value());
  CHECK(read->organization.empty());
  CHECK(service.get(example.id, icp::AuthContext::admin("user_root", "org_a")).error().code ==
        icp::Errc::not_found);
}

TEST_CASE("sqlite: an empty file is a new database", "[sqlite]") {
  const TempDir dir;
  const auto path = dir.path() / "empty.db";
  write_file(path, "");
  const auto store = icp::open_sqlite_store(path);
  REQUIRE(store.has_value());
  CHECK((*store)->list({}).value().empty());
}

TEST_CASE("sqlite: a directory is not a database", "[sqlite]") {
  const TempDir dir;
  const auto store = icp::open_sqlite_store(dir.path());
  REQUIRE_FALSE(store.has_value());
  CHECK(store.error().code == icp::Errc::internal);
  CHECK_THAT(store.error().message, Catch::StartsWith("cannot open the ICP database"));
}

TEST_CASE("sqlite: get and list-for-user never scan a table", "[sqlite]") {
  const TempDir dir;
  const auto path = dir.path() / "icps.db";
  open_new(path);
  SQLite::Database db(path.string());
  namespace sql = icp::detail::sqlite::sql;
  for (const char* query : {sql::kGet, sql::kGetForMember, sql::kRevision, sql::kListForMember,
                            sql::kListAll, sql::kEraseMembers, sql::kErase}) {
    const auto plan = query_plan(db, query);
    CAPTURE(query, plan);
    CHECK_THAT(plan, !Catch::Contains("SCAN"));
    // Every search starts at the organization.
    std::istringstream lines(plan);
    for (std::string line; std::getline(lines, line);) {
      if (line.find("SEARCH") != std::string::npos) {
        CHECK_THAT(line, Catch::Contains("(organization=?"));
      }
    }
    // Ordering comes from the index, not a sort step.
    CHECK_THAT(plan, !Catch::Contains("TEMP B-TREE"));
  }
}

TEST_CASE("sqlite: a stored document that does not parse is an internal error", "[sqlite]") {
  const TempDir dir;
  const auto path = dir.path() / "icps.db";
  const auto store = open_new(path);
  const auto example = icp::testing::spec_example();
  REQUIRE(store->write({.icps = {&example, 1}}).has_value());
  // Damage that quotes a member and a secret name back in the reader's message.
  SQLite::Database(path.string(), SQLite::OPEN_READWRITE)
      .exec(
          R"(UPDATE icps SET doc = '{"id":1,"name":"SECRET NAME","userIds":["user_abc123","user_abc123"]}')");
  const auto got = store->get({.id = example.id});
  REQUIRE_FALSE(got.has_value());
  CHECK(got.error().code == icp::Errc::internal);
  CHECK_THAT(got.error().message, Catch::StartsWith("SQLite store: a stored ICP is damaged"));
  CHECK(store->list({}).error().code == icp::Errc::internal);

  // Through the service: no error carries stored text, and a caller who is
  // not a member is answered from the membership index, never with a 500.
  for (const bool conceal : {false, true}) {
    const icp::IcpService service(store, {.conceal_existence = conceal});
    for (const auto& caller :
         {icp::AuthContext::user("user_abc123"), icp::AuthContext::admin("root"),
          icp::AuthContext::user("user_000001")}) {
      INFO("conceal " << conceal << ", caller " << caller.user_id());
      const auto read = service.get(example.id, caller);
      REQUIRE_FALSE(read.has_value());
      CHECK_THAT(read.error().message, !Catch::Contains("user_abc123") &&
                                           !Catch::Contains("SECRET") &&
                                           !Catch::Contains("user_def456"));
      const bool member = caller.user_id() != "user_000001";
      CHECK(read.error().code == (member    ? icp::Errc::internal
                                  : conceal ? icp::Errc::not_found
                                            : icp::Errc::forbidden));
    }
  }
}

TEST_CASE("sqlite: two stores on one file (as two processes) see each other's writes",
          "[sqlite][concurrency]") {
  const TempDir dir;
  const auto path = dir.path() / "shared.db";
  const auto first = open_new(path);
  const auto second = icp::open_sqlite_store(path).value();
  constexpr int kPerThread = 60;
  std::atomic<int> errors{0};
  {
    std::vector<std::jthread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&, t] {
        auto& store = (t % 2 == 0) ? *first : *second;
        auto& other = (t % 2 == 0) ? *second : *first;
        for (int i = 0; i < kPerThread; ++i) {
          auto written = icp::testing::spec_example();
          written.id = icp::new_icp_id();
          written.user_ids = {"writer_" + std::to_string(t)};
          if (!store.write({.icps = {&written, 1}, .mode = icp::WriteMode::insert})) ++errors;
          const auto seen = other.get({.id = written.id});
          if (!seen || *seen != written) ++errors;
          if (i % 3 == 0) {
            const auto erased = other.erase({.id = written.id});
            if (!erased || !*erased) ++errors;
          }
        }
      });
    }
  }
  CHECK(errors.load() == 0);
  const auto all = first->list({.limit = 1000});
  REQUIRE(all.has_value());
  CHECK(all->size() == std::size_t{4} * (kPerThread - kPerThread / 3));
}

TEST_CASE("sqlite: a database file deleted or replaced while open fails writes and health",
          "[sqlite]") {
  for (const bool replace : {false, true}) {
    INFO((replace ? "replaced" : "deleted"));
    const TempDir dir;
    const auto path = dir.path() / "icps.db";
    const auto store = open_new(path);
    const auto example = icp::testing::spec_example();
    REQUIRE(store->write({.icps = {&example, 1}}).has_value());
    REQUIRE(store->check_health().has_value());

    std::filesystem::remove(path);
    std::filesystem::remove(dir.path() / "icps.db-wal");
    std::filesystem::remove(dir.path() / "icps.db-shm");
    if (replace) (void)open_new(path);  // another, empty database at the same path

    auto next = example;
    next.id = icp::new_icp_id();
    const auto written = store->write({.icps = {&next, 1}});
    REQUIRE_FALSE(written.has_value());
    CHECK(written.error().code == icp::Errc::internal);
    CHECK_THAT(written.error().message, Catch::Contains("was deleted or replaced while in use"));
    CHECK_FALSE(store->erase({.id = example.id}).has_value());
    const auto health = store->check_health();
    REQUIRE_FALSE(health.has_value());
    CHECK_THAT(health.error().message, Catch::Contains(path.string()));
  }
}

TEST_CASE("sqlite: a write lock held past busy_timeout is unavailable (retry), not internal",
          "[sqlite]") {
  const icp::test::TempDir dir;
  const auto path = dir.path() / "icps.db";
  (void)open_new(path);
  auto store = icp::open_sqlite_store(path, {.busy_timeout = std::chrono::milliseconds{50}});
  REQUIRE(store.has_value());
  const auto example = icp::testing::spec_example();

  // Another process's writer holds the lock; readers in WAL mode are not blocked.
  SQLite::Database other(path.string(), SQLite::OPEN_READWRITE);
  other.exec("BEGIN IMMEDIATE");
  const auto written = (*store)->write({.icps = {&example, 1}});
  REQUIRE_FALSE(written.has_value());
  CHECK(written.error().code == icp::Errc::unavailable);
  CHECK_THAT(written.error().message, Catch::Contains("busy_timeout"));
  CHECK((*store)->get({.id = example.id}).has_value());

  other.exec("ROLLBACK");
  CHECK((*store)->write({.icps = {&example, 1}}).has_value());
}

TEST_CASE("sqlite: pool_stats counts connections open and in use", "[sqlite]") {
  const icp::test::TempDir dir;
  const auto store = open_new(dir.path() / "icps.db");
  const auto example = icp::testing::spec_example();
  REQUIRE(store->write({.icps = {&example, 1}}).has_value());
  const auto stats = store->pool_stats();
  REQUIRE(stats.has_value());
  CHECK(stats->in_use == 0);
  CHECK(stats->open >= 1);
  CHECK(stats->capacity == 0);
  CHECK(stats->waits == 0);
}
