#include "server.hpp"

#include "session.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <fmt/format.h>

#include <vector>

namespace icp::server {

namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

/// Errors that mean the process or system is out of descriptors or memory
/// for a new connection: accepting again at once would spin.
bool is_resource_exhaustion(const boost::system::error_code& ec) {
  return ec == asio::error::no_descriptors || ec == asio::error::no_buffer_space ||
         ec == asio::error::no_memory || ec == boost::system::errc::too_many_files_open_in_system;
}

}  // namespace

Server::Server(asio::io_context& io, unsigned io_threads, http::Adapter adapter,
               std::shared_ptr<IcpStore> store, StoreCalls& store_calls, const Limits& limits,
               AccessLog& log, Metrics& metrics)
    : io_(io),
      io_threads_(io_threads),
      accept_strand_(asio::make_strand(io)),
      shutdown_deadline_(io),
      adapter_(std::move(adapter)),
      store_(std::move(store)),
      store_calls_(store_calls),
      limits_(limits),
      log_(log),
      metrics_(metrics) {}

tcp::endpoint Server::listen(const tcp::endpoint& endpoint, Serves serves) {
  const auto limit =
      serves == Serves::metrics ? limits_.max_metrics_connections : limits_.max_connections;
  auto& listener = listeners_.emplace_back(accept_strand_, serves, limit);
  auto& acceptor = listener.acceptor;
  acceptor.open(endpoint.protocol());
  acceptor.set_option(asio::socket_base::reuse_address(true));
  acceptor.bind(endpoint);
  acceptor.listen(asio::socket_base::max_listen_connections);
  accept(listener);
  return acceptor.local_endpoint();
}

void Server::accept(Listener& listener) {
  // A strand orders a connection's handlers across threads; with one
  // thread they are ordered already, and a strand per connection costs a
  // mutex and a queue on every handler (docs/performance.md, "Within 1.3x
  // of the floor?").
  const auto executor = io_threads_ == 1 ? asio::any_io_executor(io_.get_executor())
                                         : asio::any_io_executor(asio::make_strand(io_));
  listener.acceptor.async_accept(
      executor, [this, &listener](const boost::system::error_code& ec, tcp::socket socket) {
        on_accept(listener, ec, std::move(socket));
      });
}

void Server::on_accept(Listener& listener, const boost::system::error_code& ec,
                       tcp::socket socket) {
  if (ec == asio::error::operation_aborted || !listener.acceptor.is_open()) return;  // stopping
  if (ec) {
    if (is_resource_exhaustion(ec)) {
      // Out of descriptors: the pending connection stays in the backlog and
      // accept would fail again at once. Wait for connections to close.
      listener.retry.expires_after(Limits::kAcceptBackoff);
      listener.retry.async_wait([this, &listener](const boost::system::error_code& waited) {
        if (!waited) accept(listener);
      });
    } else {
      accept(listener);  // that client gave up (ECONNABORTED, ...): serve the next
    }
    return;
  }
  auto session = make_session(std::move(socket), *this, listener.serves);
  bool more = false;
  {
    const std::lock_guard lock(mutex_);
    if (stopping_) return;
    sessions_.emplace(session, &listener);
    more = ++listener.open < listener.limit;
    listener.paused = !more;
  }
  start(session);
  if (more) accept(listener);
}

void Server::forget(const std::weak_ptr<Session>& session) {
  const std::lock_guard lock(mutex_);
  const auto found = sessions_.find(session);
  if (found == sessions_.end()) return;
  auto& listener = *found->second;
  sessions_.erase(found);
  --listener.open;
  if (listener.paused && !stopping_) {
    listener.paused = false;
    // On the strand, which owns the acceptors.
    asio::post(accept_strand_, [this, &listener] { accept(listener); });
  }
  if (stopping_ && sessions_.empty()) shutdown_deadline_.cancel();
}

bool Server::stopping() const {
  const std::lock_guard lock(mutex_);
  return stopping_;
}

void Server::stop() {
  asio::post(accept_strand_, [this] {
    for (auto& listener : listeners_) {
      boost::system::error_code ignored;
      listener.acceptor.close(ignored);
      listener.retry.cancel();
    }
  });
  std::vector<std::shared_ptr<Session>> live;
  {
    const std::lock_guard lock(mutex_);
    if (stopping_) return;
    stopping_ = true;
    for (const auto& [weak, listener] : sessions_) {
      if (auto session = weak.lock()) live.push_back(std::move(session));
    }
    if (!live.empty()) {
      shutdown_deadline_.expires_after(limits_.shutdown_timeout);
      shutdown_deadline_.async_wait([this](const boost::system::error_code& ec) {
        if (!ec) close_all();
      });
    }
  }
  for (const auto& session : live) stop_when_idle(session);
}

void Server::close_all() {
  std::vector<std::shared_ptr<Session>> live;
  {
    const std::lock_guard lock(mutex_);
    for (const auto& [weak, listener] : sessions_) {
      if (auto session = weak.lock()) live.push_back(std::move(session));
    }
  }
  log_.message(fmt::format("shutdown: closing {} connection(s) still open", live.size()));
  for (const auto& session : live) close_now(session);
}

}  // namespace icp::server
