#pragma once

// The PostgreSQL store's connection pool.

#include <icp/postgres_store.hpp>
#include <icp/store.hpp>

#include "postgres/connection.hpp"
#include "postgres/libpq.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <stop_token>
#include <thread>
#include <vector>

namespace icp::detail::postgres {

/// At most `pool_size` connections. A call takes an idle one that is still
/// open, or opens one (retrying while the server is down) until its
/// deadline; a connection comes back only when its session is clean. A
/// reaper thread closes connections idle past `idle_timeout`, keeping
/// `min_idle`.
class ConnectionPool {
 public:
  ConnectionPool(Session session, const PostgresOptions& options)
      : session_(std::move(session)),
        size_(std::max<std::size_t>(1, options.pool_size)),
        acquire_timeout_(options.acquire_timeout),
        idle_timeout_(options.idle_timeout),
        min_idle_(options.min_idle) {
    if (idle_timeout_.count() > 0) {
      reaper_ = std::jthread([this](const std::stop_token& stop) { reap_until(stop); });
    }
  }

  ConnectionPool(const ConnectionPool&) = delete;
  ConnectionPool& operator=(const ConnectionPool&) = delete;
  ConnectionPool(ConnectionPool&&) = delete;
  ConnectionPool& operator=(ConnectionPool&&) = delete;
  ~ConnectionPool() = default;

  class Lease {
   public:
    Lease(ConnectionPool& pool, pg::Connection connection)
        : pool_(pool), connection_(std::move(connection)) {}
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    Lease(Lease&&) = delete;
    Lease& operator=(Lease&&) = delete;
    /// Ends any transaction left open by an error; a connection that cannot
    /// be brought back to idle (lost, discarded, or still busy with a
    /// statement whose answer never came in time) is closed instead of
    /// returned.
    ~Lease() {
      PGconn* raw = connection_.raw();
      const auto state = PQtransactionStatus(raw);
      bool reusable = !connection_.discarded() && PQstatus(raw) == CONNECTION_OK &&
                      PQpipelineStatus(raw) == PQ_PIPELINE_OFF && state != PQTRANS_ACTIVE &&
                      state != PQTRANS_UNKNOWN;
      if (reusable && state != PQTRANS_IDLE) {
        try {
          (void)pg::exec(connection_, "ROLLBACK");
          reusable = PQtransactionStatus(raw) == PQTRANS_IDLE;
        } catch (...) {  // a failure, or memory: the connection is closed, not reused
          reusable = false;
        }
      }
      pool_.give_back(std::move(connection_), reusable);
    }
    [[nodiscard]] const pg::Connection& get() const { return connection_; }

   private:
    ConnectionPool& pool_;
    pg::Connection connection_;
  };

  /// Throws pg::Failure when no connection is free or can be opened in time.
  Lease take() {
    const auto deadline = std::chrono::steady_clock::now() + acquire_timeout_;
    bool waited = false;  // a call that waits twice is one wait
    std::unique_lock lock(mutex_);
    for (;;) {
      while (!idle_.empty()) {
        auto connection = std::move(idle_.back().connection);
        idle_.pop_back();
        if (still_open(connection.raw())) return {*this, std::move(connection)};
        --open_;  // closed by the server while idle: replaced below
      }
      if (open_ < size_) {
        ++open_;
        lock.unlock();
        try {
          return {*this, open_until(deadline)};
        } catch (...) {
          lock.lock();
          --open_;
          available_.notify_one();
          throw;
        }
      }
      if (!waited) {
        waited = true;
        ++waits_;
      }
      if (available_.wait_until(lock, deadline) == std::cv_status::timeout && idle_.empty() &&
          open_ >= size_) {
        ++timeouts_;
        throw pg::Failure(
            fmt::format("all {} connections stayed busy for {} ms; raise PostgresOptions::"
                        "pool_size or acquire_timeout",
                        size_, acquire_timeout_.count()),
            "", false, true);
      }
    }
  }

  [[nodiscard]] PoolStats stats() const {
    const std::lock_guard lock(mutex_);
    return {.capacity = size_,
            .open = open_,
            .in_use = open_ - idle_.size(),
            .waits = waits_,
            .timeouts = timeouts_};
  }

 private:
  /// Opens a connection, retrying while the server is unreachable (it may be
  /// restarting) until the deadline; then fails with libpq's last reason.
  pg::Connection open_until(std::chrono::steady_clock::time_point deadline) {
    auto backoff = std::chrono::milliseconds(20);
    for (;;) {
      try {
        return connect(session_, true, deadline);
      } catch (const pg::Failure& failure) {
        const auto now = std::chrono::steady_clock::now();
        if (!failure.connection_lost()) {
          // Connected, but the session could not be set up (its statements
          // name tables that are gone, say): not the network's fault.
          throw pg::Failure(fmt::format("cannot set up a session: {}", failure.reason()),
                            failure.sqlstate(), false);
        }
        if (now + backoff >= deadline) {
          throw pg::Failure(fmt::format("{}{}", kCannotConnect, failure.reason()),
                            failure.sqlstate(), true);
        }
        std::this_thread::sleep_for(backoff);
        backoff = std::min(backoff * 2, std::chrono::milliseconds(500));
      }
    }
  }

  void give_back(pg::Connection connection, bool reusable) {
    {
      const std::lock_guard lock(mutex_);
      if (reusable) {
        idle_.push_back({std::move(connection), std::chrono::steady_clock::now()});
      } else {
        --open_;
      }
    }
    available_.notify_one();
    // An unusable connection closes here, outside the lock.
  }

  /// Every half idle timeout, closes the connections idle longer than it
  /// (the oldest first: take() reuses the newest), keeping min_idle_.
  void reap_until(const std::stop_token& stop) {
    std::unique_lock lock(mutex_);
    while (!stop.stop_requested()) {
      reaper_wake_.wait_for(lock, stop, idle_timeout_ / 2, [] { return false; });
      const auto cutoff = std::chrono::steady_clock::now() - idle_timeout_;
      std::vector<pg::Connection> closing;
      while (idle_.size() > min_idle_ && idle_.front().since < cutoff) {
        closing.push_back(std::move(idle_.front().connection));
        idle_.erase(idle_.begin());
        --open_;
      }
      if (closing.empty()) continue;
      lock.unlock();
      closing.clear();  // PQfinish outside the lock
      available_.notify_all();
      lock.lock();
    }
  }

  struct Idle {
    pg::Connection connection;
    std::chrono::steady_clock::time_point since;
  };

  Session session_;
  std::size_t size_;
  std::chrono::milliseconds acquire_timeout_;
  std::chrono::milliseconds idle_timeout_;
  std::size_t min_idle_;
  mutable std::mutex mutex_;
  std::condition_variable available_;
  std::condition_variable_any reaper_wake_;
  std::vector<Idle> idle_;
  std::size_t open_ = 0;  ///< idle plus leased
  std::uint64_t waits_ = 0;
  std::uint64_t timeouts_ = 0;
  std::jthread reaper_;  // last: stopped and joined before the members it reads go
};

}  // namespace icp::detail::postgres
