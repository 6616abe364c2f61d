// icp-server: the ICP API over HTTP/1.1 (Boost.Beast), on an SQLite or a
// PostgreSQL database.
//
//   icp-server --db PATH|URL (--tokens FILE | --clerk-jwt-key FILE [--clerk-authorized-party
//   URL]...
//              [--clerk-admin-claim PATH=VALUE]) [--listen HOST:PORT] [--threads N]
//              [--conceal-existence]
//
// Prints `listening on http://HOST:PORT` on stdout once it accepts; one access
// log line per request on stderr; exits 0 after SIGINT or SIGTERM once the
// requests in flight are answered. Bad flags or an unusable database: one
// line on stderr, exit 2.

#include <icp/clerk.hpp>
#include <icp/http.hpp>

#include "access_log.hpp"
#include "common/open_store.hpp"

#include <fmt/format.h>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <charconv>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;

constexpr std::string_view kUsage =
    R"(Usage: icp-server --db PATH|URL (--tokens FILE | --clerk-jwt-key FILE) [OPTIONS]

Serves the ICP API (/api/v1/entities/icps) over HTTP/1.1 from an SQLite or
PostgreSQL database.

Options:
  --db PATH|URL          The SQLite database (must exist; create it with icpctl put),
                         or a postgresql:// URL (tables are created on first use).
  --tokens FILE          Bearer tokens: {"<token>": {"userId": "...", "admin": false}}.
  --clerk-jwt-key FILE   Verify Clerk session tokens offline with this PEM public key
                         (or with "env:VAR" to read it from an environment variable,
                         e.g. env:CLERK_JWT_KEY).
  --clerk-authorized-party URL
                         Accept only tokens whose azp is URL (repeat for more).
  --clerk-admin-claim PATH=VALUE
                         Who is an admin (default metadata.role=admin; o.rol=admin for
                         the organisation role).
  --listen HOST:PORT     Where to listen (default 127.0.0.1:8080; port 0 picks a free one).
  --threads N            Worker threads (default: one per core).
  --conceal-existence    Answer 404 rather than 403 to callers without access.
  -h, --help             Show this help.

Also: GET /healthz. Stops on SIGINT or SIGTERM after answering the requests in flight.
)";

struct Config {
  std::string db;
  std::string tokens;
  std::string clerk_key;
  std::vector<std::string> clerk_authorized_parties;
  std::optional<icp::clerk::AdminClaim> clerk_admin;
  std::string host = "127.0.0.1";
  std::uint16_t port = 8080;
  unsigned threads = std::max(1U, std::thread::hardware_concurrency());
  bool conceal_existence = false;
};

/// Limits that keep a slow or hostile client from holding the server.
struct Limits {
  static constexpr std::uint32_t kHeaderBytes = 16 * 1024;
  static constexpr std::size_t kBodyBytes = std::size_t{1} << 20;
  static constexpr auto kReadTimeout = std::chrono::seconds{30};
  static constexpr auto kWriteTimeout = std::chrono::seconds{30};
  /// After an early answer: how much more of the request is read and dropped.
  static constexpr std::size_t kDrainBytes = std::size_t{64} << 20;
};

class Server;

/// One connection: reads a request, answers it, repeats while keep-alive.
/// Its operations run on its own strand, one at a time.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, Server& server) : stream_(std::move(socket)), server_(server) {}

  void start();
  /// For shutdown: closes the connection now if it waits for a new request;
  /// else it closes after answering the one it has.
  void stop_when_idle();

 private:
  void read();
  void on_read(beast::error_code ec);
  void answer(bhttp::status status, std::string body, bool keep_alive);
  void write(bool keep_alive);
  void close();
  void drain_then_close();

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  bhttp::response<bhttp::string_body> response_;
  Server& server_;
  std::chrono::steady_clock::time_point started_;
  bool reading_ = false;
  bool unread_input_ = false;  // answered before the whole request was read
  std::array<char, std::size_t{16} << 10> discard_{};
  std::size_t drained_ = 0;
};

class Server {
 public:
  Server(asio::io_context& io, icp::http::Adapter adapter, icp::server::AccessLog& log)
      : io_(io),
        accept_strand_(asio::make_strand(io)),
        acceptor_(accept_strand_),
        adapter_(std::move(adapter)),
        log_(log) {}

  /// Binds and listens; the bound endpoint (port 0 picks one).
  tcp::endpoint listen(const tcp::endpoint& endpoint) {
    acceptor_.open(endpoint.protocol());
    acceptor_.set_option(asio::socket_base::reuse_address(true));
    acceptor_.bind(endpoint);
    acceptor_.listen(asio::socket_base::max_listen_connections);
    accept();
    return acceptor_.local_endpoint();
  }

  /// Stops accepting and closes idle connections; busy ones close after
  /// their answer. io_context::run returns when the last one is gone.
  void stop() {
    asio::post(accept_strand_, [this] { acceptor_.close(); });
    std::vector<std::shared_ptr<Session>> live;
    {
      const std::lock_guard lock(mutex_);
      stopping_ = true;
      for (const auto& weak : sessions_) {
        if (auto session = weak.lock()) live.push_back(std::move(session));
      }
    }
    for (const auto& session : live) session->stop_when_idle();
  }

  [[nodiscard]] bool stopping() const {
    const std::lock_guard lock(mutex_);
    return stopping_;
  }
  void forget(const std::weak_ptr<Session>& session) {
    const std::lock_guard lock(mutex_);
    sessions_.erase(session);
  }
  [[nodiscard]] const icp::http::Adapter& adapter() const { return adapter_; }
  [[nodiscard]] icp::server::AccessLog& log() { return log_; }

 private:
  void accept() {
    acceptor_.async_accept(asio::make_strand(io_),
                           [this](beast::error_code ec, tcp::socket socket) {
                             if (ec) {
                               if (ec == asio::error::operation_aborted)
                                 return;  // closed: shutting down
                               accept();  // e.g. too many open files: keep serving the others
                               return;
                             }
                             auto session = std::make_shared<Session>(std::move(socket), *this);
                             {
                               const std::lock_guard lock(mutex_);
                               if (stopping_) return;
                               sessions_.insert(session);
                             }
                             session->start();
                             accept();
                           });
  }

  asio::io_context& io_;
  asio::strand<asio::io_context::executor_type> accept_strand_;
  tcp::acceptor acceptor_;
  icp::http::Adapter adapter_;
  icp::server::AccessLog& log_;
  mutable std::mutex mutex_;
  std::set<std::weak_ptr<Session>, std::owner_less<>> sessions_;
  bool stopping_ = false;
};

void Session::start() {
  asio::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->read(); });
}

void Session::stop_when_idle() {
  asio::post(stream_.get_executor(), [self = shared_from_this()] {
    if (self->reading_ && !self->parser_->got_some()) self->close();
  });
}

void Session::read() {
  parser_.emplace();
  parser_->header_limit(Limits::kHeaderBytes);
  parser_->body_limit(Limits::kBodyBytes);
  stream_.expires_after(Limits::kReadTimeout);
  reading_ = true;
  bhttp::async_read(stream_, buffer_, *parser_,
                    [self = shared_from_this()](beast::error_code ec, std::size_t /*bytes*/) {
                      self->on_read(ec);
                    });
}

void Session::on_read(beast::error_code ec) {
  reading_ = false;
  started_ = std::chrono::steady_clock::now();
  if (ec == bhttp::error::end_of_stream || ec == beast::error::timeout ||
      ec == asio::error::operation_aborted || ec == asio::error::connection_reset ||
      ec == asio::error::eof || ec == asio::error::bad_descriptor) {
    close();
    return;
  }
  if (ec) unread_input_ = true;
  if (ec == bhttp::error::body_limit) {
    answer(
        bhttp::status::payload_too_large,
        fmt::format(
            R"({{"error":{{"code":"PAYLOAD_TOO_LARGE","message":"The body is larger than {} bytes"}}}})",
            Limits::kBodyBytes),
        false);
    return;
  }
  if (ec == bhttp::error::header_limit) {
    answer(bhttp::status::request_header_fields_too_large,
           R"({"error":{"code":"BAD_REQUEST","message":"The request headers are too large"}})",
           false);
    return;
  }
  if (ec) {
    answer(bhttp::status::bad_request,
           R"({"error":{"code":"BAD_REQUEST","message":"Malformed HTTP request"}})", false);
    return;
  }

  const auto& request = parser_->get();
  const bool keep_alive = request.keep_alive() && !server_.stopping();
  if (request.target() == "/healthz") {
    if (request.method() == bhttp::verb::get) {
      answer(bhttp::status::ok, R"({"status":"ok"})", keep_alive);
    } else {
      response_ = {};
      response_.set(bhttp::field::allow, "GET");
      answer(bhttp::status::method_not_allowed,
             R"({"error":{"code":"METHOD_NOT_ALLOWED","message":"This resource allows only GET"}})",
             keep_alive);
    }
    return;
  }

  icp::http::Request adapted{
      .method = request.method_string(), .target = request.target(), .body = request.body()};
  adapted.headers.reserve(8);
  for (const auto& field : request)
    adapted.headers.emplace_back(field.name_string(), field.value());
  auto answered = server_.adapter().handle(adapted);

  response_ = {};
  for (auto& [name, value] : answered.headers) response_.set(name, value);
  answer(static_cast<bhttp::status>(answered.status), std::move(answered.body), keep_alive);
}

void Session::answer(bhttp::status status, std::string body, bool keep_alive) {
  response_.result(status);
  response_.version(11);
  if (!body.empty() && response_.find(bhttp::field::content_type) == response_.end()) {
    response_.set(bhttp::field::content_type, "application/json");
  }
  response_.body() = std::move(body);
  response_.keep_alive(keep_alive);
  response_.prepare_payload();

  const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(
                          std::chrono::steady_clock::now() - started_)
                          .count();
  const auto& request = parser_->get();
  server_.log().write(fmt::format("{} {} {} {}us", std::string_view(request.method_string()),
                                  std::string_view(request.target()), response_.result_int(),
                                  micros));
  write(keep_alive);
}

void Session::write(bool keep_alive) {
  stream_.expires_after(Limits::kWriteTimeout);
  bhttp::async_write(stream_, response_,
                     [self = shared_from_this(), keep_alive](beast::error_code ec, std::size_t) {
                       if (ec || !keep_alive || self->server_.stopping()) {
                         if (!ec && self->unread_input_) {
                           self->drain_then_close();
                         } else {
                           self->close();
                         }
                         return;
                       }
                       self->read();
                     });
}

// After an early answer (413, 400) the client may still be sending. Closing at
// once would reset the connection and could destroy the answer in the client's
// receive buffer, so the rest is read and dropped first, for a bounded time.
void Session::drain_then_close() {
  beast::error_code ignored;
  stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
  stream_.expires_after(std::chrono::seconds{2});
  stream_.async_read_some(asio::buffer(discard_),
                          [self = shared_from_this()](beast::error_code ec, std::size_t bytes) {
                            self->drained_ += bytes;
                            if (ec || self->drained_ > Limits::kDrainBytes) {
                              self->close();
                              return;
                            }
                            self->drain_then_close();
                          });
}

void Session::close() {
  beast::error_code ignored;
  stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
  stream_.socket().close(ignored);
  server_.forget(weak_from_this());
}

// ---- command line --------------------------------------------------------------

int usage_error(std::string_view message) {
  std::cerr << "icp-server: " << message << " (see icp-server --help)\n";
  return 2;
}

std::optional<std::pair<std::string, std::uint16_t>> parse_listen(std::string_view text) {
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return std::nullopt;
  std::uint16_t port = 0;
  const auto digits = text.substr(colon + 1);
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
  if (digits.empty() || ec != std::errc{} || end != digits.data() + digits.size()) {
    return std::nullopt;
  }
  auto host = std::string(text.substr(0, colon));
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  return std::pair{host, port};
}

std::variant<Config, int> parse_args(int argc, char** argv) {
  Config config;
  const std::vector<std::string_view> args(argv + 1, argv + argc);
  for (std::size_t i = 0; i < args.size(); ++i) {
    const auto arg = args[i];
    if (arg == "-h" || arg == "--help") {
      std::cout << kUsage;
      return 0;
    }
    if (arg == "--conceal-existence") {
      config.conceal_existence = true;
      continue;
    }
    if (arg != "--db" && arg != "--tokens" && arg != "--listen" && arg != "--threads" &&
        arg != "--clerk-jwt-key" && arg != "--clerk-authorized-party" &&
        arg != "--clerk-admin-claim") {
      return usage_error(fmt::format("unknown argument {}", arg));
    }
    if (i + 1 >= args.size() || args[i + 1].empty()) {
      return usage_error(fmt::format("{} needs a value", arg));
    }
    const auto value = args[++i];
    if (arg == "--db") {
      config.db = value;
    } else if (arg == "--tokens") {
      config.tokens = value;
    } else if (arg == "--clerk-jwt-key") {
      config.clerk_key = value;
    } else if (arg == "--clerk-authorized-party") {
      config.clerk_authorized_parties.emplace_back(value);
    } else if (arg == "--clerk-admin-claim") {
      auto admin = icp::clerk::AdminClaim::parse(value);
      if (!admin) return usage_error(fmt::format("--clerk-admin-claim: {}", admin.error().message));
      config.clerk_admin = *admin;
    } else if (arg == "--listen") {
      const auto listen = parse_listen(value);
      if (!listen) return usage_error(fmt::format("--listen needs HOST:PORT, got \"{}\"", value));
      std::tie(config.host, config.port) = *listen;
    } else {
      unsigned threads = 0;
      const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), threads);
      if (ec != std::errc{} || end != value.data() + value.size() || threads == 0 ||
          threads > 256) {
        return usage_error(
            fmt::format("--threads needs a number from 1 to 256, got \"{}\"", value));
      }
      config.threads = threads;
    }
  }
  if (config.db.empty()) return usage_error("--db PATH|URL is required");
  if (config.tokens.empty() == config.clerk_key.empty()) {
    return usage_error("give one of --tokens FILE or --clerk-jwt-key FILE");
  }
  if (config.clerk_key.empty() &&
      (!config.clerk_authorized_parties.empty() || config.clerk_admin)) {
    return usage_error("--clerk-authorized-party and --clerk-admin-claim need --clerk-jwt-key");
  }
  return config;
}

/// The authenticator the flags ask for.
icp::Result<std::shared_ptr<const icp::http::Authenticator>> make_authenticator(
    const Config& config) {
  if (!config.tokens.empty()) {
    auto tokens = icp::http::StaticTokenAuthenticator::from_file(config.tokens);
    if (!tokens) return tokens.error();
    return std::shared_ptr<const icp::http::Authenticator>(*tokens);
  }
  constexpr std::string_view kEnvironment = "env:";
  auto pem =
      config.clerk_key.starts_with(kEnvironment)
          ? icp::clerk::key_from_environment(config.clerk_key.substr(kEnvironment.size()).c_str())
          : icp::clerk::read_key_file(config.clerk_key);
  if (!pem) return pem.error();
  icp::clerk::ClerkOptions options{.public_key_pem = std::move(*pem),
                                   .authorized_parties = config.clerk_authorized_parties};
  if (config.clerk_admin) options.admin = *config.clerk_admin;
  auto clerk = icp::clerk::ClerkAuthenticator::create(std::move(options));
  if (!clerk) return clerk.error();
  return std::shared_ptr<const icp::http::Authenticator>(*clerk);
}

int run(int argc, char** argv) {
  auto parsed = parse_args(argc, argv);
  if (const int* exit_code = std::get_if<int>(&parsed)) return *exit_code;
  const auto& config = std::get<Config>(parsed);

  auto store = icp::apps::open_store(config.db, false);
  if (!store) return usage_error(store.error().message);
  auto authenticator = make_authenticator(config);
  if (!authenticator) return usage_error(authenticator.error().message);
  beast::error_code ec;
  const auto address = asio::ip::make_address(config.host, ec);
  if (ec) return usage_error(fmt::format("--listen: \"{}\" is not an IP address", config.host));

  icp::server::AccessLog log;
  asio::io_context io(static_cast<int>(config.threads));
  Server server(
      io,
      icp::http::Adapter(icp::IcpService(*store, {.conceal_existence = config.conceal_existence}),
                         *authenticator, {.max_body_bytes = Limits::kBodyBytes}),
      log);
  tcp::endpoint bound;
  try {
    bound = server.listen({address, config.port});
  } catch (const boost::system::system_error& e) {
    return usage_error(
        fmt::format("cannot listen on {}:{} ({})", config.host, config.port, e.code().message()));
  }
  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](beast::error_code, int) { server.stop(); });

  const bool v6 = bound.address().is_v6();
  std::cout << fmt::format("listening on http://{}{}{}:{}", v6 ? "[" : "",
                           bound.address().to_string(), v6 ? "]" : "", bound.port())
            << std::endl;  // flushed: scripts wait for this line

  std::vector<std::jthread> workers;
  for (unsigned i = 1; i < config.threads; ++i) workers.emplace_back([&] { io.run(); });
  io.run();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "icp-server: " << e.what() << '\n';
    return 2;
  }
}
