#include "session.hpp"

#include "framing.hpp"
#include "outgoing_response.hpp"
#include "own_routes.hpp"
#include "request_id.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <atomic>
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

/// How often a timed-out read is cancelled again until it ends.
constexpr auto kCancelRetry = std::chrono::milliseconds{50};

}  // namespace

/// One connection: reads a request's header, checks its framing (and, when
/// its body is still to come, whether the caller may send it), reads the
/// body, answers, and repeats while keep-alive. One request at a time: the
/// next is not read before the answer is sent. Its handlers run one at a
/// time: on a strand of its own, or on the io_context when one thread runs it.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, Server& server, Serves serves)
      : stream_(std::move(socket)),
        buffer_(server.limits().max_header_bytes + kReadChunk),
        request_timer_(stream_.get_executor()),
        server_(server),
        metrics_(server.metrics()),
        serves_(serves) {
    metrics_.connection_opened();
  }
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;
  Session(Session&&) = delete;
  Session& operator=(Session&&) = delete;
  // Metrics outlive the io_context whose handlers may hold the last
  // reference; the Server need not.
  ~Session() { metrics_.connection_closed(); }

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

  /// True once closed: a store call queued for it is not run (StoreCalls::run).
  [[nodiscard]] bool abandoned() const noexcept { return closing_.load(std::memory_order_relaxed); }

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
    request_id_.clear();
    route_ = RouteLabel::other;
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
    if (const auto given = parser_->get()["X-Request-Id"]; is_valid_request_id(given)) {
      request_id_ = given;
    }
    route_ = route_label(parser_->get().target());  // once: routing, precheck, metrics
    if (const auto refused = check_framing(parser_->get())) {
      unread_input_ = true;
      send(framing_response(*refused), false);
      return;
    }
    if (!parser_->is_done() && !body_is_buffered()) {
      if (is_own(route_) || !serves_api()) {
        // A route that reads no body: answered now (never with 100
        // Continue), and the body drained.
        unread_input_ = true;
        answer_unread(false);
        return;
      }
      // The body is still on its way: refuse now what it cannot change, so
      // that a large body is read only for a caller who may send it.
      on_store(
          [&adapter = server_.adapter(), head = adapted(false)] { return adapter.precheck(head); },
          [this](std::optional<std::optional<http::Response>> early) {
            if (timed_out_) {  // the request's deadline passed meanwhile
              read_failed(asio::error::operation_aborted);
            } else if (!early || *early) {
              unread_input_ = true;
              send(early ? std::move(**early) : busy(), false);
            } else {
              read_body();
            }
          });
      return;
    }
    read_body();
  }

  void read_body() {
    // A request without a body (every GET) is complete with its header:
    // answering it now spares a second composed read and its hand-off.
    if (parser_->is_done()) {
      on_body({});
      return;
    }
    // RFC 9110 section 10.1.1: a client that sent `Expect: 100-continue`
    // may wait for 100 before sending the content. Here the head is
    // accepted (the precheck answered every refusal already), so it is
    // invited; not when the content is already here.
    if (expects_continue(parser_->get()) && !body_is_buffered()) {
      send_continue();
      return;
    }
    read_rest();
  }

  void send_continue() {
    static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
    // The request's deadline still runs: a client that does not read the
    // 100 (or send its content) meets it like any slow client.
    asio::async_write(stream_.socket(), asio::buffer(kContinue.data(), kContinue.size()),
                      [self = shared_from_this()](beast::error_code ec, std::size_t) {
                        if (ec) {
                          // The client is gone, or the deadline cut the 100
                          // short: nothing can follow part of a status line.
                          self->close();
                        } else if (self->timed_out_) {
                          self->read_failed(asio::error::operation_aborted);  // 408
                        } else {
                          self->read_rest();
                        }
                      });
  }

  void read_rest() {
    bhttp::async_read(stream_, buffer_, *parser_,
                      [self = shared_from_this()](beast::error_code read_ec, std::size_t) {
                        self->on_body(read_ec);
                      });
  }

  /// Runs `call`, which may wait on the store, where the server runs such
  /// calls, then `then` with its result (nullopt: not run) on this session's
  /// executor. The session does nothing else meanwhile: it is between
  /// reading and answering.
  template <class Call, class Then>
  void on_store(Call call, Then then) {
    server_.store_calls().run(shared_from_this(), stream_.get_executor(),
                              Clock::now() + server_.limits().request_timeout, std::move(call),
                              std::move(then));
  }

  /// The answer when store calls are queued to their bound.
  static http::Response busy() {
    return http::error_response(
        Error{Errc::unavailable, "The server is too busy to answer now; try again"});
  }

  void on_body(beast::error_code ec) {
    reading_ = false;
    request_timer_.cancel();
    if (ec) {
      read_failed(ec);
      return;
    }
    const bool keep_alive = wants_keep_alive(parser_->get()) && !server_.stopping();
    if (serves_api() && !is_own(route_)) {
      on_store([&adapter = server_.adapter(),
                request = adapted(true)] { return adapter.handle(request); },
               [this, keep_alive](std::optional<http::Response> response) {
                 send(response ? std::move(*response) : busy(), keep_alive);
               });
    } else {
      answer_unread(keep_alive);
    }
  }

  /// The answers that need no body: the server's own routes, and 404 for
  /// the API's on the metrics listener.
  void answer_unread(bool keep_alive) {
    if (is_own(route_)) {
      serve_own(route_, parser_->get().method(), keep_alive);
    } else {
      send(http::error_response(Error{Errc::not_found, "This port serves only /metrics"}),
           keep_alive);
    }
  }

  [[nodiscard]] bool serves_api() const { return serves_ != Serves::metrics; }

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
    // Beast's read is a series of reads: a cancel that lands between two of
    // them (a trickled byte just arrived) cancels nothing, and the read goes
    // on. So cancel again, every kCancelRetry, until the read has ended
    // (read_failed and on_body cancel this timer).
    request_timer_.expires_after(kCancelRetry);
    request_timer_.async_wait([self = shared_from_this()](const beast::error_code& ec) {
      if (!ec) self->on_request_timeout();
    });
  }

  void read_failed(beast::error_code ec) {
    reading_ = false;
    request_timer_.cancel();
    if (timed_out_) {
      // Silence gets no answer; part of a request gets 408, and the
      // connection closes after it.
      if (!parser_->got_some()) {
        close();
        return;
      }
      unread_input_ = true;  // drained, so the 408 is not lost to a reset
      send(request_timeout_response(), false);
      return;
    }
    auto answer = read_error_response(ec, server_.limits().max_body_bytes);
    if (!answer) {
      close();
      return;
    }
    unread_input_ = true;
    send(std::move(*answer), false);
  }

  /// The server's own routes (own_routes.hpp).
  void serve_own(RouteLabel route, bhttp::verb method, bool keep_alive) {
    if (method != bhttp::verb::get && method != bhttp::verb::head) {
      send(own_method_not_allowed(), keep_alive);
    } else if (route == RouteLabel::healthz) {
      send(liveness(), keep_alive);
    } else if (route == RouteLabel::metrics) {
      send(metrics_page(server_.metrics().scrape(server_.store(), server_.log().dropped()),
                        Metrics::kContentType),
           keep_alive);
    } else {
      on_store([&store = server_.store()] { return store.check_health(); },
               [this, keep_alive](const std::optional<Result<void>>& ready) {
                 if (auto reason = not_ready_reason(ready)) server_.log().message(*reason);
                 send(readiness(ready), keep_alive);
               });
    }
  }

  void send(http::Response answered, bool keep_alive) {
    // Reading is over, also when answering early: the request's deadline must
    // not cut off the answer or the drain, which have deadlines of their own.
    reading_ = false;
    request_timer_.cancel();
    response_.clear();
    for (auto& [name, value] : answered.headers) response_.set(name, value);
    if (request_id_.empty()) request_id_ = new_request_id();
    response_.set("X-Request-Id", request_id_);
    if (!answered.body.empty() && !response_.has("Content-Type")) {
      response_.set("Content-Type", "application/json");
    }
    // HEAD: the header GET would have, Content-Length included, and no body.
    const bool head = parser_->is_header_done() && parser_->get().method() == bhttp::verb::head;
    // HTTP/1.0 closes after each answer unless told otherwise (RFC 9112
    // appendix C.2.2): a client that asked to keep the connection is told.
    if (keep_alive && parser_->get().version() < 11) response_.set("Connection", "keep-alive");
    response_.finish(static_cast<unsigned>(answered.status), std::move(answered.body), keep_alive,
                     head);
    log_answer();
    write(keep_alive);
  }

  void log_answer() {
    const auto duration =
        std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - started_);
    AccessRecord record{.request_id = request_id_,
                        .method = "-",
                        .path = "-",
                        .status = static_cast<int>(response_.status()),
                        .duration = duration,
                        .bytes = response_.body_bytes()};
    if (parser_->is_header_done()) {
      const auto& request = parser_->get();
      record.method = request.method_string();
      record.path = path_of(request.target());
    }
    server_.log().request(record);
    metrics_.count_request(route_, record.method, record.status, duration);
  }

  /// The route a target names on this listener: one of the server's own,
  /// else (where the API is served) the adapter's, else `other`.
  [[nodiscard]] RouteLabel route_label(std::string_view target) const {
    auto own = own_route(target);
    if (own == RouteLabel::metrics && serves_ == Serves::api) own = RouteLabel::other;
    if (own != RouteLabel::other || !serves_api()) return own;
    switch (server_.adapter().route(target)) {
      case http::Route::collection: return RouteLabel::collection;
      case http::Route::item: return RouteLabel::item;
      case http::Route::none: break;
    }
    return RouteLabel::other;
  }

  /// Sends the answer once the handlers already queued have run: answers
  /// computed in one turn of the event loop then leave back to back, and the
  /// client is woken once for several instead of once for each (what
  /// sending at once cost: docs/performance.md, "Within 1.3x of the floor?").
  void write(bool keep_alive) {
    asio::post(stream_.get_executor(), [self = shared_from_this(), keep_alive] {
      self->stream_.expires_after(self->server_.limits().write_timeout);
      asio::async_write(self->stream_, self->response_.buffers(),
                        [self, keep_alive](beast::error_code ec, std::size_t) {
                          self->on_written(ec, keep_alive);
                        });
    });
  }

  void on_written(beast::error_code ec, bool keep_alive) {
    response_.clear();  // an answer is held only while it is being sent
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
    closing_.store(true, std::memory_order_relaxed);
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.close();
    request_timer_.cancel();
    server_.forget(weak_from_this());
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<Parser> parser_;
  OutgoingResponse response_;
  asio::steady_timer request_timer_;  ///< the deadline of the request being read
  Server& server_;
  Metrics& metrics_;
  Serves serves_;
  Clock::time_point started_;             ///< when its header was read, for the log
  std::string request_id_;                ///< the client's, or one made for the answer
  RouteLabel route_ = RouteLabel::other;  ///< of the request being served
  bool reading_ = false;
  bool timed_out_ = false;         ///< the request timer cancelled the read
  std::size_t header_fields_ = 0;  ///< fields before any chunked trailer
  bool unread_input_ = false;      ///< answered before the whole request was read
  bool closed_ = false;
  std::atomic<bool> closing_{false};  ///< closed_, for store threads to read
  std::array<char, std::size_t{16} << 10> discard_{};
  std::size_t drained_ = 0;
};

std::shared_ptr<Session> make_session(tcp::socket socket, Server& server, Serves serves) {
  return std::make_shared<Session>(std::move(socket), server, serves);
}

void start(const std::shared_ptr<Session>& session) { session->start(); }

void stop_when_idle(const std::shared_ptr<Session>& session) { session->stop_when_idle(); }

void close_now(const std::shared_ptr<Session>& session) { session->close_now(); }

}  // namespace icp::server
