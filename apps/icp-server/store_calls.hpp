#pragma once

// Where icp-server runs the calls that may wait on its store.

#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>

#include <atomic>
#include <cstddef>
#include <optional>
#include <type_traits>
#include <utility>

namespace icp::server {

/// Runs store calls on threads of their own, at most `max_pending` waiting
/// or running at once, so that a store waiting on the network (PostgreSQL)
/// never holds the threads that read requests: /healthz and the calls of
/// other connections keep being answered while some wait. With no threads
/// a call runs where it is made, as a local store (SQLite) is fastest.
class StoreCalls {
 public:
  StoreCalls(unsigned threads, std::size_t max_pending) : max_pending_(max_pending) {
    if (threads > 0) pool_.emplace(threads);
  }
  StoreCalls(const StoreCalls&) = delete;
  StoreCalls& operator=(const StoreCalls&) = delete;
  StoreCalls(StoreCalls&&) = delete;
  StoreCalls& operator=(StoreCalls&&) = delete;
  /// Waits for the calls already taken.
  ~StoreCalls() {
    if (pool_) pool_->join();
  }

  /// True when calls run where they are made.
  [[nodiscard]] bool run_inline() const { return !pool_; }

  /// Takes `call` to run on the store threads; false, and `call` is not
  /// run, when `max_pending` calls are already waiting or running.
  template <class Call>
  [[nodiscard]] bool try_post(Call call) {
    if (pending_.fetch_add(1, std::memory_order_relaxed) >= max_pending_) {
      pending_.fetch_sub(1, std::memory_order_relaxed);
      return false;
    }
    boost::asio::post(*pool_, [this, call = std::move(call)]() mutable {
      // An exception would end the process (thread_pool rethrows it on a
      // thread nobody joins in time): `call` must catch its own.
      static_assert(std::is_nothrow_invocable_v<Call&>, "a store call must not throw");
      call();
      pending_.fetch_sub(1, std::memory_order_relaxed);
    });
    return true;
  }

  /// Calls waiting or running now.
  [[nodiscard]] std::size_t pending() const { return pending_.load(std::memory_order_relaxed); }

 private:
  std::size_t max_pending_;
  std::atomic<std::size_t> pending_{0};
  std::optional<boost::asio::thread_pool> pool_;
};

}  // namespace icp::server
