#pragma once

// The embedded default store: one SQLite file.

#include <icp/sqlite_export.hpp>
#include <icp/store.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>

namespace icp {

/// How open_sqlite_store() opens the file and runs the store.
struct SqliteOptions {
  /// Create the file (and its schema) when it does not exist. Off by default,
  /// so a mistyped path is an error instead of a new empty database.
  bool create_if_missing = false;
  /// How long a write waits for another process's write lock.
  std::chrono::milliseconds busy_timeout{5000};
  /// Connections kept open for reuse; more are opened under load and closed
  /// when returned beyond this count.
  std::size_t max_idle_connections = 16;
  /// Bytes of the file read through memory mapping (`PRAGMA mmap_size`);
  /// SQLite caps it at its compile-time maximum (2 GiB in Debian's build).
  /// Mapped pages are shared by every connection and need no read() call, so a
  /// get costs about the same at 1,000 and at 1,000,000 ICPs. 0 turns it off.
  std::int64_t mmap_size = std::int64_t{2} << 30;
};

/// The schema version this build writes (`PRAGMA user_version`).
inline constexpr int kSqliteSchemaVersion = 3;

/// Opens (or, with `create_if_missing`, creates) an SQLite ICP database in WAL
/// mode and migrates its schema forward. A file that is not an SQLite
/// database, a database of another application, or one written by a newer
/// schema version is refused with an error that says so, and left untouched.
///
/// The store is thread-safe: each call takes a pooled connection of its own.
/// A get is one indexed lookup; a list for a member walks an index.
[[nodiscard]] ICP_SQLITE_EXPORT Result<std::shared_ptr<IcpStore>> open_sqlite_store(
    const std::filesystem::path& path, SqliteOptions options = {});

}  // namespace icp
