#pragma once

// The stores every store-level test runs over. A new store adds one line to
// kStoreKinds and one branch to make_store.

#include <icp/etag.hpp>
#include <icp/json.hpp>
#include <icp/sqlite_store.hpp>
#include <icp/store.hpp>

#include <catch2/catch.hpp>

#include <unistd.h>
#include <atomic>
#include <filesystem>
#include <string_view>

namespace icp::test {

inline constexpr std::string_view kStoreKinds[] = {"memory", "sqlite"};

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
