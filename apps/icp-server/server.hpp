#pragma once

// The HTTP/1.1 server: connections, their limits, and shutdown. Requests go
// to an icp::http::Adapter; the server itself answers /healthz, /readyz
// (which asks the store) and /metrics.

#include <icp/http.hpp>
#include <icp/store.hpp>

#include "access_log.hpp"
#include "config.hpp"
#include "metrics.hpp"
#include "store_calls.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include <list>
#include <map>
#include <memory>
#include <mutex>

namespace icp::server {

class Session;

/// What a listener serves. /healthz and /readyz are served by both.
enum class Serves {
  api_and_metrics,  ///< the API and /metrics
  api,              ///< the API (metrics are on another listener)
  metrics,          ///< /metrics only
};

/// Accepts connections on each listener up to its own bound
/// (Limits::max_connections, or max_metrics_connections for the metrics
/// listener, so that a flood of one leaves the other serving) and serves
/// each on a strand of its own, or, when one thread runs the io_context, on
/// the io_context itself. Thread-safe: run the io_context on `io_threads`
/// threads.
class Server {
 public:
  Server(boost::asio::io_context& io, unsigned io_threads, http::Adapter adapter,
         std::shared_ptr<IcpStore> store, StoreCalls& store_calls, const Limits& limits,
         AccessLog& log, Metrics& metrics);

  /// Binds and listens; the bound endpoint (port 0 picks one). Throws
  /// boost::system::system_error when it cannot. Call before io_context::run.
  boost::asio::ip::tcp::endpoint listen(const boost::asio::ip::tcp::endpoint& endpoint,
                                        Serves serves);

  /// Stops accepting and closes idle connections; busy ones close after their
  /// answer, and whatever is still open after Limits::shutdown_timeout is
  /// closed. io_context::run returns when the last connection is gone.
  void stop();

  [[nodiscard]] bool stopping() const;
  [[nodiscard]] const http::Adapter& adapter() const { return adapter_; }
  [[nodiscard]] IcpStore& store() const { return *store_; }
  /// Where the calls that may wait on the store run.
  [[nodiscard]] StoreCalls& store_calls() const { return store_calls_; }
  [[nodiscard]] const Limits& limits() const { return limits_; }
  [[nodiscard]] AccessLog& log() const { return log_; }
  [[nodiscard]] Metrics& metrics() const { return metrics_; }

  /// Called by a session as it closes.
  void forget(const std::weak_ptr<Session>& session);

 private:
  struct Listener {
    Listener(boost::asio::strand<boost::asio::io_context::executor_type>& strand, Serves what,
             std::size_t bound)
        : acceptor(strand), retry(strand), serves(what), limit(bound) {}
    boost::asio::ip::tcp::acceptor acceptor;
    boost::asio::steady_timer retry;  ///< after running out of descriptors
    Serves serves;
    std::size_t limit;     ///< connections at once
    std::size_t open = 0;  ///< guarded by mutex_
    bool paused = false;   ///< at its limit, not accepting; guarded by mutex_
  };

  void accept(Listener& listener);
  void on_accept(Listener& listener, const boost::system::error_code& ec,
                 boost::asio::ip::tcp::socket socket);
  void close_all();

  boost::asio::io_context& io_;
  unsigned io_threads_;
  boost::asio::strand<boost::asio::io_context::executor_type> accept_strand_;
  std::list<Listener> listeners_;  ///< stable addresses; handlers run on accept_strand_
  boost::asio::steady_timer shutdown_deadline_;
  http::Adapter adapter_;
  std::shared_ptr<IcpStore> store_;
  StoreCalls& store_calls_;
  Limits limits_;
  AccessLog& log_;
  Metrics& metrics_;

  mutable std::mutex mutex_;
  /// Each open session, and the listener that accepted it.
  std::map<std::weak_ptr<Session>, Listener*, std::owner_less<>> sessions_;
  bool stopping_ = false;
};

}  // namespace icp::server
