#pragma once

// icp-server's command line: what it serves, where, and the limits that keep
// a slow or hostile client from holding the server.

#include <icp/clerk.hpp>

#include "common/open_store.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace icp::server {

/// Bounds on what one client may hold: bytes, time and count. Each has a flag.
struct Limits {
  /// Connections served at once; past it the server stops accepting (new
  /// clients wait in the listen backlog) until one closes. The default is
  /// lowered to what the file-descriptor limit allows.
  std::size_t max_connections = 1000;
  /// The same on --metrics-listen, counted apart: a flood of the API port
  /// leaves the probes and the metrics reachable.
  std::size_t max_metrics_connections = 16;
  std::uint32_t max_header_bytes = 16 * 1024;         ///< larger: 431
  std::size_t max_body_bytes = std::size_t{1} << 20;  ///< larger: 413
  std::size_t max_page_bytes = std::size_t{1} << 20;  ///< a list response's body
  std::size_t max_icp_bytes = std::size_t{1} << 20;   ///< one ICP as JSON; larger: 400
  /// From when a connection is ready for a request (accepted, or the last
  /// answer sent) to the request's last byte. Absolute: progress does not
  /// extend it, so a client that trickles cannot hold a connection longer.
  std::chrono::seconds request_timeout{30};
  std::chrono::seconds write_timeout{30};  ///< to send one answer, absolute
  /// After SIGTERM/SIGINT: how long open connections may finish before they
  /// are closed and the process exits 0.
  std::chrono::seconds shutdown_timeout{10};
  /// Store calls waiting or running at once where they run on threads of
  /// their own (--store-threads); past it a request is answered 503.
  std::size_t max_store_calls = 256;

  /// After an answer sent before the request was read whole (400, 413, ...):
  /// the rest is read and dropped for this long at most, and this much, so
  /// the client sees the answer rather than a reset; then the connection
  /// closes. Fixed: nothing a client does extends it. The bytes allow for a
  /// client that sends a large body before reading (10 MiB in the e2e test;
  /// with 1 MiB its 413 was sometimes lost to the reset).
  static constexpr auto kDrainTime = std::chrono::seconds{2};
  static constexpr std::size_t kDrainBytes = std::size_t{64} << 20;
  /// How long accepting pauses when the process is out of file descriptors.
  static constexpr auto kAcceptBackoff = std::chrono::milliseconds{100};
};

/// How access log lines are written.
enum class LogFormat {
  text,  ///< `TIME ID METHOD PATH STATUS 123us 456B`
  json,  ///< one JSON object per line
};

/// A host and port to listen on.
struct Endpoint {
  std::string host;
  std::uint16_t port = 0;
};

struct Config {
  std::string db;
  std::string tokens;
  std::string clerk_key;
  std::vector<std::string> clerk_authorized_parties;
  std::optional<clerk::AdminClaim> clerk_admin;
  Endpoint listen{"127.0.0.1", 8080};
  /// Where /metrics is served instead of the main listener.
  std::optional<Endpoint> metrics_listen;
  unsigned threads = 1;
  /// Threads that run store calls (0: the I/O threads run them); nullopt:
  /// 0 for SQLite, the connection pool's size for PostgreSQL.
  std::optional<unsigned> store_threads;
  /// How a PostgreSQL store connects and bounds its waits.
  apps::PostgresSettings postgres;
  bool conceal_existence = false;
  LogFormat log_format = LogFormat::text;
  std::vector<std::string> cors_origins;
  Limits limits;
};

/// The configuration the arguments and the environment (ICP_DB, ...; an
/// argument wins) ask for, or the exit code to leave with (0 after --help or
/// --version; 2 after a usage error, reported on stderr in one line).
[[nodiscard]] std::variant<Config, int> parse_args(int argc, char** argv);

/// Reports a usage error on stderr; returns the exit code 2.
int usage_error(std::string_view message);

}  // namespace icp::server
