#include "config.hpp"

#include <icp/http/adapter.hpp>
#include <icp/version.hpp>

#include <CLI/CLI.hpp>
#include <boost/algorithm/string/classification.hpp>
#include <boost/algorithm/string/trim.hpp>
#include <fmt/format.h>
#include <sys/resource.h>

#include <algorithm>
#include <charconv>
#include <iostream>
#include <limits>
#include <string_view>
#include <thread>
#include <type_traits>

namespace icp::server {

namespace {

constexpr std::string_view kDescription =
    "Serves the ICP API (/api/v1/entities/icps) over HTTP/1.1 from an SQLite or PostgreSQL "
    "database.\nEvery option may also come from the environment variable shown beside it; an "
    "option given on the command line wins.";

constexpr std::string_view kFooter = R"(
Limits bound what one client may hold: bytes, time and count.

Also served: GET /healthz (liveness: 200 while the process serves), GET /readyz
(200 when the database answers, else 503 with Retry-After), GET /metrics
(Prometheus text; on --metrics-listen instead, when given). SIGHUP re-reads
the --tokens file (a bad file keeps the tokens in use). SIGINT or SIGTERM stop
the server after --shutdown-timeout. Exit status: 0 after a stop, 2 for a usage
error or an unusable database or key (one line on stderr).
)";

std::optional<Endpoint> parse_endpoint(std::string_view text) {
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
  return Endpoint{std::move(host), port};
}

/// Connections the file-descriptor limit leaves room for on --listen: each
/// takes one, and the store, the log, accepting and the metrics listener's
/// connections need some.
std::size_t connections_the_fd_limit_allows(std::size_t metrics_connections) {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) {
    return std::numeric_limits<std::size_t>::max();
  }
  const rlim_t reserved = 32 + metrics_connections;
  return limit.rlim_cur > 2 * reserved ? static_cast<std::size_t>(limit.rlim_cur - reserved)
                                       : static_cast<std::size_t>(limit.rlim_cur / 2);
}

constexpr std::uint64_t kMaxSeconds = std::uint64_t{24} * 3600;

/// Accepts HOST:PORT ([v6]:PORT too).
CLI::Validator endpoint() {
  return {[](const std::string& text) {
            return parse_endpoint(text) ? std::string() : "needs HOST:PORT, got \"" + text + "\"";
          },
          ""};
}

const CLI::Validator kNotEmpty(
    [](const std::string& text) { return text.empty() ? "needs a value" : std::string(); }, "");

/// Adds a numeric option in [min, max] with its environment variable.
template <class T>
CLI::Option* add_number(CLI::App& app, const std::string& flag, T& value, std::uint64_t min,
                        std::uint64_t max, const std::string& env, const std::string& help) {
  return app.add_option(flag, value, fmt::format("{} ({} to {})", help, min, max))
      ->envname(env)
      ->check(CLI::Range(static_cast<T>(min), static_cast<T>(max)).description(""))
      ->type_name("N")
      ->default_val(value);
}

/// Adds a duration option in whole units of `Duration`, [min, 24 hours]:
/// SECONDS or MS on the command line.
template <class Duration>
CLI::Option* add_duration(CLI::App& app, const std::string& flag, Duration& value,
                          std::uint64_t min, const std::string& env, const std::string& help) {
  constexpr bool in_seconds = std::is_same_v<Duration, std::chrono::seconds>;
  const std::uint64_t max =
      kMaxSeconds * static_cast<std::uint64_t>(Duration(std::chrono::seconds{1}).count());
  return app
      .add_option_function<std::uint64_t>(
          flag, [&value](std::uint64_t count) { value = Duration{count}; }, help)
      ->envname(env)
      ->check(CLI::Range(min, max).description(""))
      ->type_name(in_seconds ? "SECONDS" : "MS")
      ->default_str(std::to_string(value.count()));
}

/// A duration in whole seconds, [1, kMaxSeconds].
CLI::Option* add_seconds(CLI::App& app, const std::string& flag, std::chrono::seconds& value,
                         const std::string& env, const std::string& help) {
  return add_duration(app, flag, value, 1, env, help);
}

/// A duration in milliseconds, [0, kMaxSeconds * 1000] (0: the option's "none").
[[maybe_unused]] CLI::Option* add_milliseconds(CLI::App& app, const std::string& flag,
                                               std::chrono::milliseconds& value,
                                               const std::string& env, const std::string& help) {
  return add_duration(app, flag, value, 0, env, help);
}

}  // namespace

int usage_error(std::string_view message) {
  std::cerr << "icp-server: " << message << " (see icp-server --help)\n";
  return 2;
}

std::variant<Config, int> parse_args(int argc, char** argv) {
  Config config;
  config.threads = std::max(1U, std::thread::hardware_concurrency());
  auto& limits = config.limits;

  CLI::App app{std::string(kDescription), "icp-server"};
  app.footer(std::string(kFooter));
  app.get_formatter()->column_width(44);
  app.set_version_flag("--version", fmt::format("icp-server {}", icp::version()),
                       "Print the version and exit");
  app.option_defaults()->always_capture_default();

  std::string listen;
  std::string metrics_listen;
  std::vector<std::string> admin_claims;
  std::string log_format = "text";
  app.add_option("--db", config.db,
                 "The SQLite database (must exist; create it with icpctl put), or a "
                 "postgresql:// URL (tables are created on first use). Required.")
      ->envname("ICP_DB")
      ->type_name("PATH|URL")
      ->check(kNotEmpty);
  app.add_option(
         "--tokens", config.tokens,
         R"(Bearer tokens: {"<token>": {"userId": "...", "admin": false, "org": "org_..."}})")
      ->envname("ICP_TOKENS")
      ->type_name("FILE")
      ->check(kNotEmpty);
  app.add_option("--clerk-jwt-key", config.clerk_key,
                 "Verify Clerk session tokens offline with this PEM public key (or \"env:VAR\" "
                 "to read it from the environment variable VAR)")
      ->envname("ICP_CLERK_JWT_KEY")
      ->type_name("FILE")
      ->check(kNotEmpty);
  app.add_option("--clerk-authorized-party", config.clerk_authorized_parties,
                 "Accept only tokens whose azp is URL (repeat for more; comma-separated in "
                 "the environment)")
      ->envname("ICP_CLERK_AUTHORIZED_PARTY")
      ->delimiter(',')
      ->type_name("URL");
  app.add_option("--clerk-admin-claim", admin_claims,
                 "Who is an admin: PATH=VALUE (default metadata.role=admin) or org-role (the "
                 "active organization's admin role, o.rol=admin or org_role=org:admin); any "
                 "of several")
      ->envname("ICP_CLERK_ADMIN_CLAIM")
      ->delimiter(',')
      ->type_name("CLAIM");
  app.add_option("--listen", listen,
                 "Where to listen (default 127.0.0.1:8080; port 0 picks a free one)")
      ->envname("ICP_LISTEN")
      ->type_name("HOST:PORT")
      ->check(endpoint());
  add_number(app, "--threads", config.threads, 1, 256, "ICP_THREADS",
             "Worker threads (default: one per core)");
  app.add_flag("--conceal-existence", config.conceal_existence,
               "Answer 404 rather than 403 to callers without access")
      ->envname("ICP_CONCEAL_EXISTENCE");
  app.add_option("--metrics-listen", metrics_listen, "Serve /metrics here instead of on --listen")
      ->envname("ICP_METRICS_LISTEN")
      ->type_name("HOST:PORT")
      ->check(endpoint());
  app.add_option("--log-format", log_format, "Access log lines: text or json (JSON lines)")
      ->envname("ICP_LOG_FORMAT")
      ->type_name("FORMAT")
      ->check(CLI::IsMember({"text", "json"}).description(""));
  app.add_option("--cors-origin", config.cors_origins,
                 "Let browser scripts from ORIGIN (scheme://host[:port] exactly as browsers send "
                 "it, e.g. https://app.example; * for any) call the API (repeat for more; "
                 "comma-separated in the environment)")
      ->envname("ICP_CORS_ORIGIN")
      ->delimiter(',')
      ->type_name("ORIGIN");

  constexpr auto kLimits = "Limits";
  add_number(app, "--max-connections", limits.max_connections, 1, 1'000'000, "ICP_MAX_CONNECTIONS",
             "Connections at once on --listen (fewer when the file-descriptor limit is lower); "
             "past it, new clients wait")
      ->group(kLimits);
  add_number(app, "--metrics-max-connections", limits.max_metrics_connections, 1, 10'000,
             "ICP_METRICS_MAX_CONNECTIONS",
             "Connections at once on --metrics-listen, counted apart from --max-connections")
      ->group(kLimits);
  add_number(app, "--max-header-bytes", limits.max_header_bytes, 1024, std::uint64_t{1} << 20,
             "ICP_MAX_HEADER_BYTES", "Request headers (larger: 431)")
      ->group(kLimits);
  add_number(app, "--max-body-bytes", limits.max_body_bytes, 1, std::uint64_t{1} << 30,
             "ICP_MAX_BODY_BYTES", "Request bodies (larger: 413)")
      ->group(kLimits);
  add_number(app, "--max-page-bytes", limits.max_page_bytes, 1024, std::uint64_t{1} << 30,
             "ICP_MAX_PAGE_BYTES", "A list page's body (it holds one ICP at least)")
      ->group(kLimits);
  add_number(app, "--max-icp-bytes", limits.max_icp_bytes, 1024, std::uint64_t{1} << 30,
             "ICP_MAX_ICP_BYTES", "One ICP as JSON after a create or update (larger: 400)")
      ->group(kLimits);
  add_seconds(app, "--request-timeout", limits.request_timeout, "ICP_REQUEST_TIMEOUT",
              "From a connection being ready to a request's last byte; progress does not "
              "extend it")
      ->group(kLimits);
  add_seconds(app, "--write-timeout", limits.write_timeout, "ICP_WRITE_TIMEOUT",
              "To send one response")
      ->group(kLimits);
  add_seconds(app, "--shutdown-timeout", limits.shutdown_timeout, "ICP_SHUTDOWN_TIMEOUT",
              "After SIGTERM/SIGINT, how long connections may finish before they are closed")
      ->group(kLimits);
  add_number(app, "--max-store-calls", limits.max_store_calls, 1, 1'000'000, "ICP_MAX_STORE_CALLS",
             "Store calls waiting or running at once on --store-threads; past it, 503")
      ->group(kLimits);

  constexpr auto kStore = "Store";
  unsigned store_threads = 0;
  add_number(app, "--store-threads", store_threads, 0, 1024, "ICP_STORE_THREADS",
             "Threads that run store calls, so that calls waiting on the database hold no "
             "thread that reads requests; 0: the I/O threads run them (default: 0 for SQLite, "
             "--pg-pool-size for PostgreSQL)")
      ->group(kStore)
      ->default_str("auto");
#ifdef ICP_APPS_WITH_POSTGRES
  auto& postgres = config.postgres;
  add_number(app, "--pg-pool-size", postgres.pool_size, 1, 10'000, "ICP_PG_POOL_SIZE",
             "PostgreSQL connections open at once at most")
      ->group(kStore);
  add_milliseconds(app, "--pg-acquire-timeout", postgres.acquire_timeout, "ICP_PG_ACQUIRE_TIMEOUT",
                   "How long a call waits for a connection (reconnecting included)")
      ->group(kStore);
  add_milliseconds(app, "--pg-statement-timeout", postgres.statement_timeout,
                   "ICP_PG_STATEMENT_TIMEOUT",
                   "The server cancels a statement running longer (0: the server's setting)")
      ->group(kStore);
  add_milliseconds(app, "--pg-lock-timeout", postgres.lock_timeout, "ICP_PG_LOCK_TIMEOUT",
                   "The longest a statement waits for a row lock (0: the server's setting)")
      ->group(kStore);
  add_milliseconds(app, "--pg-answer-timeout", postgres.answer_timeout, "ICP_PG_ANSWER_TIMEOUT",
                   "The longest the server waits for the database's answer to one statement "
                   "before it drops the connection (0: no bound)")
      ->group(kStore);
  add_milliseconds(app, "--pg-idle-in-transaction-timeout", postgres.idle_in_transaction_timeout,
                   "ICP_PG_IDLE_IN_TRANSACTION_TIMEOUT",
                   "The database ends a session idle inside a transaction longer (0: the "
                   "server's setting)")
      ->group(kStore);
  add_milliseconds(app, "--pg-idle-timeout", postgres.idle_timeout, "ICP_PG_IDLE_TIMEOUT",
                   "Idle connections beyond --pg-min-idle close after this long (0: never)")
      ->group(kStore);
  add_number(app, "--pg-min-idle", postgres.min_idle, 0, 10'000, "ICP_PG_MIN_IDLE",
             "Idle connections kept open however long they stay idle")
      ->group(kStore);
  add_milliseconds(app, "--pg-client-check-interval", postgres.client_connection_check_interval,
                   "ICP_PG_CLIENT_CHECK_INTERVAL",
                   "While a statement runs, the database checks this often that the server is "
                   "still there, so that a killed server's locks go within about this long (0: "
                   "the database's setting)")
      ->group(kStore);
  app.add_option("--pg-schema", postgres.schema,
                 "The PostgreSQL schema holding the tables (default: the connection's)")
      ->envname("ICP_PG_SCHEMA")
      ->type_name("NAME")
      ->check(kNotEmpty)
      ->group(kStore);
  app.add_flag("--pg-transaction-pooling", postgres.transaction_pooling,
               "--db names a pooler in transaction mode (PgBouncer pool_mode=transaction): keep "
               "no prepared statements or settings past a transaction")
      ->envname("ICP_PG_TRANSACTION_POOLING")
      ->group(kStore);
  app.add_flag("--pg-migrate,!--pg-no-migrate", postgres.migrate,
               "Create or upgrade the schema when it is not current (the default; needs the "
               "owner's privileges), or only check it (--pg-no-migrate: run icpctl migrate first)")
      ->envname("ICP_PG_MIGRATE")
      ->group(kStore);
#endif

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& help) {
    return app.exit(help);
  } catch (const CLI::CallForVersion& version) {
    return app.exit(version);
  } catch (const CLI::ParseError& error) {
    return usage_error(error.what());
  }

  if (app.count("--store-threads") > 0) config.store_threads = store_threads;
  // Past the descriptors, a connection would take the one the database
  // needs: the bound, given or not, fits what the limit leaves.
  if (const auto fit = connections_the_fd_limit_allows(limits.max_metrics_connections);
      limits.max_connections > fit) {
    if (app.count("--max-connections") > 0) {
      std::cerr << fmt::format(
          "icp-server: --max-connections {} lowered to {}, what the file-descriptor limit "
          "(ulimit -n) leaves beside --metrics-max-connections\n",
          limits.max_connections, fit);
    }
    limits.max_connections = fit;
  }
  if (!listen.empty()) config.listen = *parse_endpoint(listen);
  if (!metrics_listen.empty()) config.metrics_listen = parse_endpoint(metrics_listen);
  config.log_format = log_format == "json" ? LogFormat::json : LogFormat::text;
  for (const auto& claim : admin_claims) {
    auto admin = claim == "org-role"
                     ? Result<clerk::AdminClaim>(clerk::AdminClaim::organization_role())
                     : clerk::AdminClaim::parse(claim);
    if (!admin) return usage_error(fmt::format("--clerk-admin-claim: {}", admin.error().message));
    if (!config.clerk_admin) {
      config.clerk_admin = *admin;
    } else {  // repeated: any of them makes an admin
      auto& alternatives = config.clerk_admin->alternatives;
      alternatives.emplace_back(admin->path, admin->value);
      alternatives.insert(alternatives.end(), admin->alternatives.begin(),
                          admin->alternatives.end());
    }
  }
  for (auto& origin : config.cors_origins) {
    // "a, b" in the environment: the spaces are the list's, not the origin's.
    boost::algorithm::trim_if(origin, boost::algorithm::is_any_of(" \t"));
    if (auto checked = http::check_cors_origin(origin); !checked) {
      return usage_error(fmt::format("--cors-origin {}", checked.error().message));
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

}  // namespace icp::server
