#pragma once

// The stores every store-level test runs over. A new store adds one line to
// kStoreKinds and one branch to make_store.
//
// PostgreSQL runs when ICP_TEST_POSTGRES names a server (a libpq conninfo
// string or URL; scripts/with-postgres starts a throwaway one). Each store
// gets a schema of its own, dropped when the store goes. The second
// PostgreSQL kind runs in transaction-pooling mode, through the PgBouncer of
// ICP_TEST_PGBOUNCER_TRANSACTION when one is set, else directly.

#include <icp/etag.hpp>
#include <icp/json.hpp>
#include <icp/sqlite_store.hpp>
#include <icp/store.hpp>
#ifdef ICP_TEST_WITH_POSTGRES
#include <icp/postgres_store.hpp>

#include "postgres_support.hpp"
#endif

#include <catch2/catch.hpp>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace icp::test {

inline constexpr std::string_view kStoreKinds[] = {"memory", "sqlite", "postgres",
                                                   "postgres-transaction-pooling"};

/// The PostgreSQL server the tests use, nullopt when none is configured.
inline std::optional<std::string> postgres_url() {
  const char* url = std::getenv("ICP_TEST_POSTGRES");
  if (url == nullptr || *url == '\0') return std::nullopt;
  return std::string(url);
}

/// The URL of the PgBouncer in transaction mode in front of that server,
/// nullopt when none is configured.
inline std::optional<std::string> pgbouncer_transaction_url() {
  const char* url = std::getenv("ICP_TEST_PGBOUNCER_TRANSACTION");
  if (url == nullptr || *url == '\0') return std::nullopt;
  return std::string(url);
}

/// True when this build has the store of that kind and its server is known.
inline bool store_available(std::string_view kind) {
  if (!kind.starts_with("postgres")) return true;
#ifdef ICP_TEST_WITH_POSTGRES
  return postgres_url().has_value();
#else
  return false;
#endif
}

/// The kinds of kStoreKinds this run can test.
inline std::vector<std::string_view> store_kinds() {
  std::vector<std::string_view> kinds;
  for (const auto kind : kStoreKinds) {
    if (store_available(kind)) kinds.push_back(kind);
  }
  return kinds;
}

/// A directory of its own under the system temp dir, removed at scope exit.
class TempDir {
 public:
  TempDir() {
    static std::atomic<int> counter{0};
    path_ = std::filesystem::temp_directory_path() /
            ("icp-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  [[nodiscard]] const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

/// A new, empty store of the given kind; SQLite files live in `dir`.
inline std::shared_ptr<IcpStore> make_store(std::string_view kind, const TempDir& dir) {
  if (kind == "memory") return make_memory_store();
#ifdef ICP_TEST_WITH_POSTGRES
  if (kind.starts_with("postgres")) {
    const bool pooled = kind == "postgres-transaction-pooling";
    if (pooled && !pgbouncer_transaction_url()) {
      // Without a pooler this kind still runs its statements unnamed, directly.
      const char* required = std::getenv("ICP_TEST_REQUIRE_PGBOUNCER");
      REQUIRE_FALSE((required != nullptr && std::string_view(required) == "1"));
    }
    auto schema = std::make_shared<ScratchSchema>(*postgres_url());
    const auto url =
        pooled ? pgbouncer_transaction_url().value_or(*postgres_url()) : *postgres_url();
    auto store =
        open_postgres_store(url, {.schema = schema->name(), .transaction_pooling = pooled});
    REQUIRE(store.has_value());
    // The schema goes when the last reference to the store does.
    struct Owner {
      std::shared_ptr<ScratchSchema> schema;  // declared first: destroyed last
      std::shared_ptr<IcpStore> store;
    };
    auto owner = std::make_shared<Owner>(Owner{schema, *store});
    return {owner, owner->store.get()};
  }
#endif
  static std::atomic<int> counter{0};
  const auto path = dir.path() / ("store-" + std::to_string(counter++) + ".db");
  auto store = open_sqlite_store(path, {.create_if_missing = true});
  REQUIRE(store.has_value());
  return *store;
}

}  // namespace icp::test

// Failed comparisons of ICPs print them as JSON with their ETag.
template <>
struct Catch::StringMaker<icp::Icp> {
  static std::string convert(const icp::Icp& icp) {
    return icp::to_json(icp) + " etag " + icp::etag_of(icp);
  }
};
