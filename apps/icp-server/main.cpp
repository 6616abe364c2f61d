// icp-server: the ICP API over HTTP/1.1 (Boost.Beast), on an SQLite or a
// PostgreSQL database.
//
//   icp-server --db PATH|URL (--tokens FILE | --clerk-jwt-key FILE ...) [OPTIONS]
//
// Prints `listening on http://HOST:PORT` on stdout once it accepts; one access
// log line per request on stderr; on SIGINT or SIGTERM it stops accepting,
// lets open connections finish for --shutdown-timeout, and exits 0. Bad
// flags or an unusable database: one line on stderr, exit 2. `--help` lists
// the flags and the limits they set.

#include <icp/clerk.hpp>
#include <icp/http.hpp>

#include "access_log.hpp"
#include "common/open_store.hpp"
#include "config.hpp"
#include "server.hpp"

#include <fmt/format.h>
#include <boost/asio.hpp>

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

int run(int argc, char** argv) {
  auto parsed = icp::server::parse_args(argc, argv);
  if (const int* exit_code = std::get_if<int>(&parsed)) return *exit_code;
  const auto& config = std::get<Config>(parsed);

  auto store = icp::apps::open_store(config.db, false);
  if (!store) return usage_error(store.error().message);
  auto authenticator = make_authenticator(config);
  if (!authenticator) return usage_error(authenticator.error().message);
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(config.host, ec);
  if (ec) return usage_error(fmt::format("--listen: \"{}\" is not an IP address", config.host));

  icp::server::AccessLog log;
  asio::io_context io(static_cast<int>(config.threads));
  const auto& limits = config.limits;
  icp::server::Server server(
      io,
      icp::http::Adapter(
          icp::IcpService(*store, {.conceal_existence = config.conceal_existence,
                                   .max_icp_bytes = limits.max_icp_bytes}),
          *authenticator,
          {.max_body_bytes = limits.max_body_bytes, .max_page_bytes = limits.max_page_bytes}),
      *store, limits, log);
  tcp::endpoint bound;
  try {
    bound = server.listen({address, config.port});
  } catch (const boost::system::system_error& e) {
    return usage_error(
        fmt::format("cannot listen on {}:{} ({})", config.host, config.port, e.code().message()));
  }
  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code&, int) { server.stop(); });

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
