#pragma once

// An Authenticator whose delegate can be swapped while requests use it: how
// SIGHUP puts a new tokens file in place without dropping a connection.

#include <icp/http.hpp>

#include <atomic>
#include <memory>

namespace icp::server {

class ReloadableAuthenticator final : public http::Authenticator {
 public:
  explicit ReloadableAuthenticator(std::shared_ptr<const http::Authenticator> initial)
      : current_(std::move(initial)) {}

  [[nodiscard]] Result<AuthContext> authenticate(const http::Request& request) const override {
    // A request in flight keeps the delegate it started with alive.
    return current_.load()->authenticate(request);
  }

  void replace(std::shared_ptr<const http::Authenticator> next) { current_.store(std::move(next)); }

 private:
  std::atomic<std::shared_ptr<const http::Authenticator>> current_;
};

}  // namespace icp::server
