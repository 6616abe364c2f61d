#include "server.hpp"

#include "framing.hpp"

#include <fmt/format.h>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/url/parse.hpp>

#include <array>
#include <chrono>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

namespace icp::server {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

/// Bytes of unparsed input a connection may hold beyond its header limit:
/// one read's worth. Pipelined requests wait in the socket, not in memory.
constexpr std::size_t kReadChunk = std::size_t{64} * 1024;

std::string error_json(std::string_view code, std::string_view message) {
  return fmt::format(R"({{"error":{{"code":"{}","message":"{}"}}}})", code, message);
}

/// Whether a target (origin or absolute form) names /healthz.
bool is_healthz(std::string_view target) {
  if (target.starts_with('/')) return target == "/healthz";
  const auto url = boost::urls::parse_absolute_uri(target);
  return url && url->encoded_path() == "/healthz" && !url->has_query();
}

/// Errors that mean the process or system is out of descriptors or memory
/// for a new connection: accepting again at once would spin.
bool is_resource_exhaustion(const boost::system::error_code& ec) {
  return ec == asio::error::no_descriptors || ec == asio::error::no_buffer_space ||
         ec == asio::error::no_memory || ec == boost::system::errc::too_many_files_open_in_system;
}

}  // namespace

/// One connection: reads a request's header, checks its framing (and, when
/// its body is still to come, whether the caller may send it), reads the
/// body, answers, and repeats while keep-alive. One request at a time: the
/// next is not read before the answer is sent. Runs on its own strand.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, Server& server)
      : stream_(std::move(socket)),
        buffer_(server.limits().max_header_bytes + kReadChunk),
        request_timer_(stream_.get_executor()),
        server_(server) {}

  void start() {
    asio::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->read_header(); });
  }

  /// For shutdown: closes now if waiting for a request; else after the answer.
  void stop_when_idle() {
    asio::post(stream_.get_executor(), [self = shared_from_this()] {
      if (self->reading_ && !self->parser_->got_some()) self->close();
    });
  }

  /// For the end of the shutdown time: closes whatever it is doing.
  void close_now() {
    asio::post(stream_.get_executor(), [self = shared_from_this()] { self->close(); });
  }

 private:
  using Parser = bhttp::request_parser<bhttp::string_body>;

  void read_header() {
    const auto& limits = server_.limits();
    parser_.emplace();
    parser_->header_limit(limits.max_header_bytes);
    parser_->body_limit(limits.max_body_bytes);
    // The request's deadline is a timer of our own, not the stream's: Beast
    // closes the socket when its timer fires, and a client that sent part of
    // a request is owed a 408 first.
    stream_.expires_never();
    request_timer_.expires_after(limits.request_timeout);
    request_timer_.async_wait([self = shared_from_this()](const beast::error_code& ec) {
      if (!ec) self->on_request_timeout();
    });
    reading_ = true;
    timed_out_ = false;
    bhttp::async_read_header(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_header(ec); });
  }

  void on_header(beast::error_code ec) {
    started_ = Clock::now();
    // The timer may have fired after the header arrived but before this ran:
    // its cancel hit nothing, so the body must not be read without a deadline.
    if (!ec && timed_out_) ec = asio::error::operation_aborted;
    if (ec) {
      read_failed(ec);
      return;
    }
    // Only these fields are the request's: a chunked body's trailer fields,
    // which Beast adds to the same list, are never read as headers.
    header_fields_ =
        static_cast<std::size_t>(std::distance(parser_->get().begin(), parser_->get().end()));
    if (const auto refused = check_framing(parser_->get())) {
      unread_input_ = true;
      answer(
          static_cast<bhttp::status>(refused->status),
          error_json(refused->status == 501 ? "NOT_IMPLEMENTED" : "BAD_REQUEST", refused->message),
          false);
      return;
    }
    if (!parser_->is_done() && !body_is_buffered() && !is_healthz(parser_->get().target())) {
      // The body is still on its way: refuse now what it cannot change, so
      // that a large body is read only for a caller who may send it.
      const auto head = adapted(false);
      if (auto early = server_.adapter().precheck(head)) {
        unread_input_ = true;
        send(std::move(*early), false);
        return;
      }
    }
    bhttp::async_read(stream_, buffer_, *parser_,
                      [self = shared_from_this()](beast::error_code read_ec, std::size_t) {
                        self->on_body(read_ec);
                      });
  }

  void on_body(beast::error_code ec) {
    reading_ = false;
    request_timer_.cancel();
    if (ec) {
      read_failed(ec);
      return;
    }
    const auto& request = parser_->get();
    const bool keep_alive = request.keep_alive() && !server_.stopping();
    if (is_healthz(request.target())) {
      healthz(request.method(), keep_alive);
      return;
    }
    send(server_.adapter().handle(adapted(true)), keep_alive);
  }

  /// Whether all of a Content-Length body is already in the buffer.
  bool body_is_buffered() const {
    const auto length = parser_->content_length();
    return length && *length <= buffer_.size();
  }

  http::Request adapted(bool with_body) const {
    const auto& request = parser_->get();
    http::Request adapted{.method = request.method_string(), .target = request.target()};
    if (with_body) adapted.body = request.body();
    adapted.headers.reserve(header_fields_);
    std::size_t taken = 0;
    for (const auto& field : request) {
      if (taken++ == header_fields_) break;
      adapted.headers.emplace_back(field.name_string(), field.value());
    }
    return adapted;
  }

  /// The request was not read in time: stop reading; read_failed answers.
  void on_request_timeout() {
    if (!reading_ || closed_) return;
    timed_out_ = true;
    beast::error_code ignored;
    stream_.socket().cancel(ignored);
  }

  void read_failed(beast::error_code ec) {
    reading_ = false;
    request_timer_.cancel();
    if (timed_out_) {
      // Silence gets no answer; part of a request gets 408 (RFC 9110
      // section 15.5.9), and the connection closes after it.
      if (!parser_->got_some()) {
        close();
        return;
      }
      unread_input_ = true;  // drained, so the 408 is not lost to a reset
      answer(bhttp::status::request_timeout,
             error_json("REQUEST_TIMEOUT", "The request did not arrive in time"), false);
      return;
    }
    if (ec == bhttp::error::end_of_stream || ec == beast::error::timeout ||
        ec == asio::error::operation_aborted || ec == asio::error::connection_reset ||
        ec == asio::error::eof || ec == asio::error::bad_descriptor) {
      close();  // gone, or too slow: a timeout has already closed the socket
      return;
    }
    unread_input_ = true;
    if (ec == bhttp::error::body_limit) {
      answer(bhttp::status::payload_too_large,
             error_json("PAYLOAD_TOO_LARGE", fmt::format("The body is larger than {} bytes",
                                                         server_.limits().max_body_bytes)),
             false);
    } else if (ec == bhttp::error::header_limit || ec == bhttp::error::buffer_overflow) {
      answer(bhttp::status::request_header_fields_too_large,
             error_json("BAD_REQUEST", "The request headers are too large"), false);
    } else {
      answer(bhttp::status::bad_request, error_json("BAD_REQUEST", "Malformed HTTP request"),
             false);
    }
  }

  void healthz(bhttp::verb method, bool keep_alive) {
    response_ = {};
    if (method != bhttp::verb::get) {
      response_.set(bhttp::field::allow, "GET");
      answer(bhttp::status::method_not_allowed,
             error_json("METHOD_NOT_ALLOWED", "This resource allows only GET"), keep_alive);
      return;
    }
    const auto health = server_.store().check_health();
    if (health) {
      answer(bhttp::status::ok, R"({"status":"ok"})", keep_alive);
      return;
    }
    // The reason is for the operator's log, not for whoever asks.
    server_.log().write(fmt::format("healthz: unhealthy: {}", health.error().message));
    answer(bhttp::status::service_unavailable, R"({"status":"unavailable"})", keep_alive);
  }

  void send(http::Response answered, bool keep_alive) {
    response_ = {};
    for (auto& [name, value] : answered.headers) response_.set(name, value);
    answer(static_cast<bhttp::status>(answered.status), std::move(answered.body), keep_alive);
  }

  void answer(bhttp::status status, std::string body, bool keep_alive) {
    // Reading is over, also when answering early: the request's deadline must
    // not cut off the answer or the drain, which have deadlines of their own.
    reading_ = false;
    request_timer_.cancel();
    response_.result(status);
    response_.version(11);
    if (!body.empty() && response_.find(bhttp::field::content_type) == response_.end()) {
      response_.set(bhttp::field::content_type, "application/json");
    }
    response_.body() = std::move(body);
    response_.keep_alive(keep_alive);
    response_.prepare_payload();
    log_answer();
    write(keep_alive);
  }

  void log_answer() {
    const auto micros =
        std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - started_).count();
    if (parser_->is_header_done()) {
      const auto& request = parser_->get();
      server_.log().write(fmt::format("{} {} {} {}us", std::string_view(request.method_string()),
                                      std::string_view(request.target()), response_.result_int(),
                                      micros));
    } else {
      server_.log().write(fmt::format("- - {} {}us", response_.result_int(), micros));
    }
  }

  void write(bool keep_alive) {
    stream_.expires_after(server_.limits().write_timeout);
    bhttp::async_write(stream_, response_,
                       [self = shared_from_this(), keep_alive](beast::error_code ec, std::size_t) {
                         self->on_written(ec, keep_alive);
                       });
  }

  void on_written(beast::error_code ec, bool keep_alive) {
    response_ = {};  // an answer is held only while it is being sent
    if (!ec && unread_input_) {
      drain_then_close();
    } else if (ec || !keep_alive || server_.stopping()) {
      close();
    } else {
      read_header();
    }
  }

  // After an early answer (413, 400, ...) the client may still be sending.
  // Closing at once would reset the connection and could destroy the answer
  // in the client's receive buffer, so the rest is read and dropped first,
  // within a fixed time and size that nothing the client does extends.
  void drain_then_close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.expires_after(Limits::kDrainTime);
    drain();
  }

  void drain() {
    stream_.async_read_some(asio::buffer(discard_),
                            [self = shared_from_this()](beast::error_code ec, std::size_t bytes) {
                              self->drained_ += bytes;
                              if (ec || self->drained_ > Limits::kDrainBytes) {
                                self->close();
                              } else {
                                self->drain();
                              }
                            });
  }

  void close() {
    if (closed_) return;
    closed_ = true;
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.close();
    request_timer_.cancel();
    server_.forget(weak_from_this());
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<Parser> parser_;
  bhttp::response<bhttp::string_body> response_;
  asio::steady_timer request_timer_;  ///< the deadline of the request being read
  Server& server_;
  Clock::time_point started_;  ///< when its header was read, for the log
  bool reading_ = false;
  bool timed_out_ = false;         ///< the request timer cancelled the read
  std::size_t header_fields_ = 0;  ///< fields before any chunked trailer
  bool unread_input_ = false;      ///< answered before the whole request was read
  bool closed_ = false;
  std::array<char, std::size_t{16} << 10> discard_{};
  std::size_t drained_ = 0;
};

Server::Server(asio::io_context& io, http::Adapter adapter, std::shared_ptr<IcpStore> store,
               const Limits& limits, AccessLog& log)
    : io_(io),
      accept_strand_(asio::make_strand(io)),
      acceptor_(accept_strand_),
      accept_retry_(accept_strand_),
      shutdown_deadline_(io),
      adapter_(std::move(adapter)),
      store_(std::move(store)),
      limits_(limits),
      log_(log) {}

tcp::endpoint Server::listen(const tcp::endpoint& endpoint) {
  acceptor_.open(endpoint.protocol());
  acceptor_.set_option(asio::socket_base::reuse_address(true));
  acceptor_.bind(endpoint);
  acceptor_.listen(asio::socket_base::max_listen_connections);
  accept();
  return acceptor_.local_endpoint();
}

void Server::accept() {
  acceptor_.async_accept(asio::make_strand(io_),
                         [this](const boost::system::error_code& ec, tcp::socket socket) {
                           on_accept(ec, std::move(socket));
                         });
}

void Server::on_accept(const boost::system::error_code& ec, tcp::socket socket) {
  if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;  // stopping
  if (ec) {
    if (is_resource_exhaustion(ec)) {
      // Out of descriptors: the pending connection stays in the backlog and
      // accept would fail again at once. Wait for connections to close.
      accept_retry_.expires_after(Limits::kAcceptBackoff);
      accept_retry_.async_wait([this](const boost::system::error_code& waited) {
        if (!waited) accept();
      });
    } else {
      accept();  // that client gave up (ECONNABORTED, ...): serve the next
    }
    return;
  }
  auto session = std::make_shared<Session>(std::move(socket), *this);
  bool more = false;
  {
    const std::lock_guard lock(mutex_);
    if (stopping_) return;
    sessions_.insert(session);
    more = sessions_.size() < limits_.max_connections;
    accept_paused_ = !more;
  }
  session->start();
  if (more) accept();
}

void Server::forget(const std::weak_ptr<Session>& session) {
  const std::lock_guard lock(mutex_);
  sessions_.erase(session);
  if (accept_paused_ && !stopping_ && sessions_.size() < limits_.max_connections) {
    accept_paused_ = false;
    asio::post(accept_strand_, [this] { accept(); });
  }
  if (stopping_ && sessions_.empty()) shutdown_deadline_.cancel();
}

bool Server::stopping() const {
  const std::lock_guard lock(mutex_);
  return stopping_;
}

void Server::stop() {
  asio::post(accept_strand_, [this] {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    accept_retry_.cancel();
  });
  std::vector<std::shared_ptr<Session>> live;
  {
    const std::lock_guard lock(mutex_);
    if (stopping_) return;
    stopping_ = true;
    for (const auto& weak : sessions_) {
      if (auto session = weak.lock()) live.push_back(std::move(session));
    }
    if (!live.empty()) {
      shutdown_deadline_.expires_after(limits_.shutdown_timeout);
      shutdown_deadline_.async_wait([this](const boost::system::error_code& ec) {
        if (!ec) close_all();
      });
    }
  }
  for (const auto& session : live) session->stop_when_idle();
}

void Server::close_all() {
  std::vector<std::shared_ptr<Session>> live;
  {
    const std::lock_guard lock(mutex_);
    for (const auto& weak : sessions_) {
      if (auto session = weak.lock()) live.push_back(std::move(session));
    }
  }
  log_.write(fmt::format("shutdown: closing {} connection(s) still open", live.size()));
  for (const auto& session : live) session->close_now();
}

}  // namespace icp::server
