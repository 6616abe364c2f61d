#pragma once

// Where icp-server runs the calls that may wait on its store.

#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/asio/thread_pool.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <memory>
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

  /// Runs `call`, which may wait on the store, where store calls run, then
  /// `then` with its result on `executor`. `then(nullopt)` when it was not
  /// run: too many calls wait already, it waited past `deadline`, `owner`
  /// was abandoned() meanwhile (shutdown does not wait for answers nobody
  /// reads), or it threw (only allocation can). `owner` (a connection) is
  /// kept until `then` has run; its executor's work stays counted, so the
  /// io_context does not run out of work and return in the meantime.
  template <class Owner, class Executor, class Call, class Then>
  void run(std::shared_ptr<Owner> owner, const Executor& executor,
           std::chrono::steady_clock::time_point deadline, Call call, Then then) {
    if (run_inline()) {
      then(std::optional{call()});
      return;
    }
    auto tracked =
        boost::asio::prefer(executor, boost::asio::execution::outstanding_work_t::tracked);
    // Only posting the answer back can still throw (allocation): the process
    // ends then, as it would on any thread of the io_context.
    // NOLINTNEXTLINE(bugprone-exception-escape)
    const bool taken = try_post([owner, tracked, deadline, call = std::move(call),
                                 then]() mutable noexcept {
      std::optional<decltype(call())> result;
      if (!owner->abandoned() && std::chrono::steady_clock::now() < deadline) {
        try {
          result.emplace(call());
        } catch (...) {  // NOLINT(bugprone-empty-catch): answered as not run
        }
      }
      boost::asio::post(tracked, [owner, result = std::move(result),
                                  then = std::move(then)]() mutable { then(std::move(result)); });
    });
    if (!taken) then(std::nullopt);
  }

  /// Calls waiting or running now.
  [[nodiscard]] std::size_t pending() const { return pending_.load(std::memory_order_relaxed); }

 private:
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

  std::size_t max_pending_;
  std::atomic<std::size_t> pending_{0};
  std::optional<boost::asio::thread_pool> pool_;
};

}  // namespace icp::server
