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

  /// Queues a request's line. Thread-safe; never waits for stderr: past
  /// kMaxPendingBytes, lines are dropped and counted.
  void request(const AccessRecord& record);
  /// Queues an operator's line (a reload, an unhealthy store, ...).
  void message(std::string_view text);

  /// Lines dropped since the start because the output was not keeping up.
  [[nodiscard]] std::uint64_t dropped() const noexcept { return dropped_total_.load(); }

  /// What the queue may hold while stderr is slow or blocked.
  static constexpr std::size_t kMaxPendingBytes = std::size_t{4} << 20;
  /// After a stop, how long the output may take to accept what is queued
  /// before it is dropped and the process exits anyway.
  static constexpr auto kShutdownWait = std::chrono::seconds{2};

 private:
  using Clock = std::chrono::steady_clock;
  void enqueue(const std::string& line);
  void run(const std::stop_token& stop);

  LogFormat format_;
  std::FILE* out_;
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
