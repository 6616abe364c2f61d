// icp-server: the ICP API over HTTP/1.1 (Boost.Beast), on an SQLite or a
// PostgreSQL database.
//
//   icp-server --db PATH|URL (--tokens FILE | --clerk-jwt-key FILE ...) [OPTIONS]
//
// Prints `listening on http://HOST:PORT` on stdout once it accepts (and
// `metrics on http://HOST:PORT` with --metrics-listen); one access log line
// per request on stderr; on SIGHUP it re-reads the tokens file; on SIGINT or
// SIGTERM it stops accepting, lets open connections finish for
// --shutdown-timeout, and exits 0. Bad flags or an unusable database: one
// line on stderr, exit 2. `--help` lists the flags, their environment
// variables and the limits they set.

#include <icp/clerk.hpp>
#include <icp/http.hpp>

#include "access_log.hpp"
#include "common/open_store.hpp"
#include "config.hpp"
#include "metrics.hpp"
#include "reloadable_authenticator.hpp"
#include "server.hpp"

#include <boost/asio.hpp>
#include <fmt/format.h>

#include <iostream>
#include <thread>
#include <vector>

namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using icp::server::Config;
using icp::server::usage_error;

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

std::string url_of(const tcp::endpoint& bound) {
  const bool v6 = bound.address().is_v6();
  return fmt::format("http://{}{}{}:{}", v6 ? "[" : "", bound.address().to_string(), v6 ? "]" : "",
                     bound.port());
}

/// On every SIGHUP: the tokens file again, or the tokens in use when it is bad.
void reload_tokens_on_sighup(asio::signal_set& hangups, const Config& config,
                             icp::server::ReloadableAuthenticator& authenticator,
                             icp::server::AccessLog& log) {
  hangups.async_wait([&](const boost::system::error_code& ec, int) {
    if (ec) return;
    if (config.tokens.empty()) {
      log.message("SIGHUP: nothing to reload (tokens come from --clerk-jwt-key)");
    } else if (auto tokens = icp::http::StaticTokenAuthenticator::from_file(config.tokens)) {
      authenticator.replace(*std::move(tokens));
      log.message(fmt::format("SIGHUP: tokens reloaded from {}", config.tokens));
    } else {
      log.message(fmt::format("SIGHUP: kept the previous tokens: {}", tokens.error().message));
    }
    reload_tokens_on_sighup(hangups, config, authenticator, log);
  });
}

int run(int argc, char** argv) {
  auto parsed = icp::server::parse_args(argc, argv);
  if (const int* exit_code = std::get_if<int>(&parsed)) return *exit_code;
  const auto& config = std::get<Config>(parsed);

  auto opened = icp::apps::open_store(config.db, false, config.postgres);
  if (!opened) return usage_error(opened.error().message);
  auto first_authenticator = make_authenticator(config);
  if (!first_authenticator) return usage_error(first_authenticator.error().message);
  auto authenticator =
      std::make_shared<icp::server::ReloadableAuthenticator>(*std::move(first_authenticator));
  auto address_of = [](const icp::server::Endpoint& endpoint,
                       std::string_view flag) -> std::optional<asio::ip::address> {
    boost::system::error_code ec;
    const auto address = asio::ip::make_address(endpoint.host, ec);
    if (ec) {
      usage_error(fmt::format("{}: \"{}\" is not an IP address", flag, endpoint.host));
      return std::nullopt;
    }
    return address;
  };
  const auto address = address_of(config.listen, "--listen");
  if (!address) return 2;
  std::optional<asio::ip::address> metrics_address;
  if (config.metrics_listen) {
    metrics_address = address_of(*config.metrics_listen, "--metrics-listen");
    if (!metrics_address) return 2;
  }

  icp::server::AccessLog log(config.log_format);
  // Clients get a generic 500 or 503 body; the store's reason is logged here.
  const icp::http::AdapterOptions adapter_options{
      .max_body_bytes = config.limits.max_body_bytes,
      .max_page_bytes = config.limits.max_page_bytes,
      .cors_origins = config.cors_origins,
      .on_server_error = [&log](const icp::Error& error) {
        log.message(fmt::format("{} {}: {}", icp::http_status(error.code),
                                icp::code_name(error.code), error.message));
      }};
  icp::server::Metrics metrics(adapter_options.base_path);
  const auto store = std::make_shared<icp::server::MeteredStore>(*opened, metrics);
  asio::io_context io(static_cast<int>(config.threads));
  const auto& limits = config.limits;
  // SQLite answers from local files in microseconds: its calls run on the
  // I/O threads (threads of their own cost a hand-off per request). A
  // PostgreSQL call may wait on the network, so it gets one thread per
  // pooled connection.
  unsigned store_threads = 0;
#ifdef ICP_APPS_WITH_POSTGRES
  if (icp::is_postgres_url(config.db)) {
    store_threads = static_cast<unsigned>(config.postgres.pool_size);
  }
#endif
  icp::server::StoreCalls store_calls(config.store_threads.value_or(store_threads),
                                      limits.max_store_calls);
  icp::server::Server server(
      io, config.threads,
      icp::http::Adapter(icp::IcpService(store, {.conceal_existence = config.conceal_existence,
                                                 .max_icp_bytes = limits.max_icp_bytes}),
                         authenticator, adapter_options),
      store, store_calls, limits, log, metrics);
  tcp::endpoint bound;
  tcp::endpoint metrics_bound;
  const auto& listen = config.listen;
  try {
    bound = server.listen({*address, listen.port}, config.metrics_listen
                                                       ? icp::server::Serves::api
                                                       : icp::server::Serves::api_and_metrics);
  } catch (const boost::system::system_error& e) {
    return usage_error(
        fmt::format("cannot listen on {}:{} ({})", listen.host, listen.port, e.code().message()));
  }
  if (config.metrics_listen) {
    try {
      metrics_bound = server.listen({*metrics_address, config.metrics_listen->port},
                                    icp::server::Serves::metrics);
    } catch (const boost::system::system_error& e) {
      return usage_error(fmt::format("cannot listen on {}:{} for metrics ({})",
                                     config.metrics_listen->host, config.metrics_listen->port,
                                     e.code().message()));
    }
  }
  // Signals are handled on a thread of their own, never on one that serves:
  // a reload reads a file, and both handlers touch `hangups`, which must not
  // be used from two threads at once.
  asio::io_context control;
  asio::signal_set hangups(control, SIGHUP);
  reload_tokens_on_sighup(hangups, config, *authenticator, log);
  asio::signal_set signals(control, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code&, int) {
    hangups.cancel();  // its wait done, control.run() returns
    server.stop();
  });
  const std::jthread control_thread([&] { control.run(); });
  // However run() below ends, the control thread ends too (and is joined).
  struct StopControl {
    asio::io_context& context;
    explicit StopControl(asio::io_context& to_stop) : context(to_stop) {}
    StopControl(const StopControl&) = delete;
    StopControl& operator=(const StopControl&) = delete;
    StopControl(StopControl&&) = delete;
    StopControl& operator=(StopControl&&) = delete;
    ~StopControl() { context.stop(); }
  } const stop_control{control};

  std::cout << "listening on " << url_of(bound) << '\n';
  if (config.metrics_listen) std::cout << "metrics on " << url_of(metrics_bound) << '\n';
  std::cout << std::flush;  // scripts wait for these lines

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
