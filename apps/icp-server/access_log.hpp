#pragma once

// The access log: one line per request on stderr (text or JSON lines),
// written in batches by a thread of its own so that no request pays for a
// write() of its own, and never waits for it.

#include "config.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

namespace icp::server {

/// One answered request, as logged. Never a token, a key, a query string
/// (it may hold one) or a user id.
struct AccessRecord {
  std::string_view request_id;
  std::string_view method;  ///< "-" when the header could not be read
  std::string_view path;    ///< without the query; "-" when unknown
  int status = 0;
  std::chrono::microseconds duration{0};
  std::size_t bytes = 0;  ///< of the response body
};

class AccessLog {
 public:
  explicit AccessLog(LogFormat format, std::FILE* out = stderr);
  AccessLog(const AccessLog&) = delete;
  AccessLog& operator=(const AccessLog&) = delete;
  AccessLog(AccessLog&&) = delete;
  AccessLog& operator=(AccessLog&&) = delete;
  /// Writes what is left before returning.
  ~AccessLog();

  /// Queues a request's line. Thread-safe; never waits for stderr. A method
  /// or path longer than kMaxMethodBytes or kMaxPathBytes is cut, and says
  /// so (`...[cut:16384B]`). Lines are dropped, and counted, only past
  /// kMaxPendingBytes while the output is blocked (poll() finds no room), or
  /// past kMaxPendingBytesWriting while it takes lines slower than they come.
  void request(const AccessRecord& record);
  /// Queues an operator's line (a reload, an unhealthy store, ...), cut past
  /// kMaxMessageBytes.
  void message(std::string_view text);

  /// Lines dropped since the start because the output was blocked or
  /// slower than the requests, or closed.
  [[nodiscard]] std::uint64_t dropped() const noexcept { return dropped_total_.load(); }

  /// What the queue may hold while the output is blocked.
  static constexpr std::size_t kMaxPendingBytes = std::size_t{4} << 20;
  /// What it may hold while the output takes lines, slower than they come.
  static constexpr std::size_t kMaxPendingBytesWriting = std::size_t{32} << 20;
  /// Queued bytes that wake the writer before its 50 ms are up.
  static constexpr std::size_t kWakeBytes = std::size_t{64} << 10;
  /// The longest method, path and message logged whole: a line's cost is
  /// bounded whatever the client sends (at most 3 bytes per byte encoded).
  static constexpr std::size_t kMaxMethodBytes = 32;
  static constexpr std::size_t kMaxPathBytes = 1024;
  static constexpr std::size_t kMaxMessageBytes = 4096;
  /// After a stop, how long the output may take to accept what is queued
  /// before it is dropped and the process exits anyway.
  static constexpr auto kShutdownWait = std::chrono::seconds{2};

 private:
  using Clock = std::chrono::steady_clock;
  void enqueue(const std::string& line);
  void run(const std::stop_token& stop);
  /// Writes all of `bytes`, waiting for the output to take them; after a
  /// stop, at most kShutdownWait. What could not be written (empty: none).
  std::string_view write_all(std::string_view bytes, const std::stop_token& stop);

  LogFormat format_;
  std::FILE* out_;
  bool large_writes_;  ///< the output is a regular file: no PIPE_BUF chunks
  std::atomic<bool> output_blocked_{false};
  std::mutex mutex_;
  std::condition_variable wake_;
  std::string pending_;
  std::size_t dropped_ = 0;  ///< since the last notice in the log
  std::atomic<std::uint64_t> dropped_total_{0};
  std::jthread writer_;  // last: started after, and joined before, the rest
};

/// `2026-11-29T00:30:18.123456Z` (RFC 3339, UTC, microseconds).
[[nodiscard]] std::string rfc3339(std::chrono::system_clock::time_point at);

}  // namespace icp::server
