#pragma once

// An Authenticator whose delegate can be swapped while requests use it: how
// SIGHUP puts a new tokens file in place without dropping a connection.

#include <icp/http.hpp>

#include <memory>
#include <mutex>

namespace icp::server {

class ReloadableAuthenticator final : public http::Authenticator {
 public:
  explicit ReloadableAuthenticator(std::shared_ptr<const http::Authenticator> initial)
      : current_(std::move(initial)) {}

  [[nodiscard]] Result<AuthContext> authenticate(const http::Request& request) const override {
    // A request in flight keeps the delegate it started with alive. A mutex
    // rather than std::atomic<std::shared_ptr>: GCC 12's guards its pointer
    // with a lock bit that ThreadSanitizer cannot see, and an uncontended
    // lock costs tens of nanoseconds.
    std::shared_ptr<const http::Authenticator> current;
    {
      const std::lock_guard lock(mutex_);
      current = current_;
    }
    return current->authenticate(request);
  }

  void replace(std::shared_ptr<const http::Authenticator> next) {
    const std::lock_guard lock(mutex_);
    current_.swap(next);  // the old one goes with `next`, after the lock is released
  }

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<const http::Authenticator> current_;
};

}  // namespace icp::server
