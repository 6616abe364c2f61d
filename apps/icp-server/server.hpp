#pragma once

// The HTTP/1.1 server: connections, their limits, and shutdown. Requests go
// to an icp::http::Adapter; GET /healthz asks the store.

#include "access_log.hpp"
#include "config.hpp"

#include <icp/http.hpp>
#include <icp/store.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include <memory>
#include <mutex>
#include <set>

namespace icp::server {

class Session;

/// Accepts connections up to Limits::max_connections and serves each on a
/// strand of its own. Thread-safe: run the io_context on as many threads as
/// you like.
class Server {
 public:
  Server(boost::asio::io_context& io, http::Adapter adapter, std::shared_ptr<IcpStore> store,
         const Limits& limits, AccessLog& log);

  /// Binds and listens; the bound endpoint (port 0 picks one). Throws
  /// boost::system::system_error when it cannot.
  boost::asio::ip::tcp::endpoint listen(const boost::asio::ip::tcp::endpoint& endpoint);

  /// Stops accepting and closes idle connections; busy ones close after their
  /// answer, and whatever is still open after Limits::shutdown_timeout is
  /// closed. io_context::run returns when the last connection is gone.
  void stop();

  [[nodiscard]] bool stopping() const;
  [[nodiscard]] const http::Adapter& adapter() const { return adapter_; }
  [[nodiscard]] IcpStore& store() const { return *store_; }
  [[nodiscard]] const Limits& limits() const { return limits_; }
  [[nodiscard]] AccessLog& log() const { return log_; }

  /// Called by a session as it closes.
  void forget(const std::weak_ptr<Session>& session);

 private:
  void accept();
  void on_accept(const boost::system::error_code& ec, boost::asio::ip::tcp::socket socket);
  void close_all();

  boost::asio::io_context& io_;
  boost::asio::strand<boost::asio::io_context::executor_type> accept_strand_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer accept_retry_;  ///< on accept_strand_
  boost::asio::steady_timer shutdown_deadline_;
  http::Adapter adapter_;
  std::shared_ptr<IcpStore> store_;
  Limits limits_;
  AccessLog& log_;

  mutable std::mutex mutex_;
  std::set<std::weak_ptr<Session>, std::owner_less<>> sessions_;
  bool stopping_ = false;
  bool accept_paused_ = false;  ///< at max_connections
};

}  // namespace icp::server
