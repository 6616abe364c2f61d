#pragma once

// The access log: one line per request on stderr, written in batches by a
// thread of its own so that no request pays for a write() of its own.

#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <string>
#include <thread>

namespace icp::server {

class AccessLog {
 public:
  AccessLog() : writer_([this](const std::stop_token& stop) { run(stop); }) {}
  AccessLog(const AccessLog&) = delete;
  AccessLog& operator=(const AccessLog&) = delete;
  AccessLog(AccessLog&&) = delete;
  AccessLog& operator=(AccessLog&&) = delete;
  /// Writes what is left before returning.
  ~AccessLog() {
    writer_.request_stop();
    wake_.notify_one();
  }

  /// Queues one line (a newline is added). Thread-safe; never waits for
  /// stderr: past kMaxPendingBytes, lines are dropped and counted.
  void write(std::string_view line) {
    const std::lock_guard lock(mutex_);
    if (pending_.size() + line.size() + 1 > kMaxPendingBytes) {
      ++dropped_;
      return;
    }
    pending_.append(line);
    pending_.push_back('\n');
  }

  /// What the queue may hold while stderr is slow or blocked.
  static constexpr std::size_t kMaxPendingBytes = std::size_t{4} << 20;

 private:
  void run(const std::stop_token& stop) {
    std::string batch;
    for (;;) {
      {
        std::unique_lock lock(mutex_);
        // Batches every 50 ms: the log trails the requests by that much at most.
        wake_.wait_for(lock, std::chrono::milliseconds{50}, [&] { return stop.stop_requested(); });
        batch.swap(pending_);
        if (dropped_ > 0) {
          batch += "access log: " + std::to_string(dropped_) +
                   " line(s) dropped while stderr was not keeping up\n";
          dropped_ = 0;
        }
      }
      if (!batch.empty()) {
        // A log that cannot be written must not stop the server: nothing to do.
        (void)std::fwrite(batch.data(), 1, batch.size(), stderr);
        (void)std::fflush(stderr);
        batch.clear();
      }
      if (stop.stop_requested()) {
        const std::lock_guard lock(mutex_);
        if (pending_.empty()) return;
      }
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_;
  std::string pending_;
  std::size_t dropped_ = 0;
  std::jthread writer_;  // last: started after, and joined before, the rest
};

}  // namespace icp::server
