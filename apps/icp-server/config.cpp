#include "config.hpp"

#include <fmt/format.h>

#include <sys/resource.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <iostream>
#include <limits>
#include <string_view>
#include <thread>

namespace icp::server {

namespace {

constexpr std::string_view kUsage =
    R"(Usage: icp-server --db PATH|URL (--tokens FILE | --clerk-jwt-key FILE) [OPTIONS]

Serves the ICP API (/api/v1/entities/icps) over HTTP/1.1 from an SQLite or
PostgreSQL database.

Options:
  --db PATH|URL          The SQLite database (must exist; create it with icpctl put),
                         or a postgresql:// URL (tables are created on first use).
  --tokens FILE          Bearer tokens: {"<token>": {"userId": "...", "admin": false,
                         "org": "org_..."}} ("org" optional: the caller's organization).
  --clerk-jwt-key FILE   Verify Clerk session tokens offline with this PEM public key
                         (or with "env:VAR" to read it from an environment variable,
                         e.g. env:CLERK_JWT_KEY).
  --clerk-authorized-party URL
                         Accept only tokens whose azp is URL (repeat for more).
  --clerk-admin-claim PATH=VALUE|org-role
                         Who is an admin (default metadata.role=admin; repeat for
                         more; org-role: the active organization's admin role, in
                         both token shapes, o.rol=admin and org_role=org:admin).
                         Admins administer their active organization (o.id, org_id).
  --listen HOST:PORT     Where to listen (default 127.0.0.1:8080; port 0 picks a free one).
  --threads N            Worker threads (default: one per core).
  --conceal-existence    Answer 404 rather than 403 to callers without access.
  -h, --help             Show this help.

Limits (what one client may hold):
  --max-connections N    Connections at once (default 1000, or fewer when the
                         file-descriptor limit is lower); past it, new clients wait.
  --max-header-bytes N   Request headers (default 16384; larger: 431).
  --max-body-bytes N     Request bodies (default 1048576; larger: 413).
  --max-page-bytes N     A list page's body (default 1048576; at least one ICP).
  --max-icp-bytes N      One ICP as JSON after a create or update (default
                         1048576; larger: 400).
  --request-timeout S    From a connection being ready to a request's last byte
                         (default 30; not extended by progress).
  --write-timeout S      To send one response (default 30).
  --shutdown-timeout S   After SIGTERM/SIGINT, how long connections may finish
                         before they are closed (default 10).

Also: GET /healthz (503 when the database cannot serve). Stops on SIGINT or SIGTERM.
)";

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

/// An integer flag's value in [min, max].
std::optional<std::uint64_t> parse_count(std::string_view text, std::uint64_t min,
                                         std::uint64_t max) {
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || value < min || value > max) {
    return std::nullopt;
  }
  return value;
}

/// Connections the file-descriptor limit leaves room for: each takes one,
/// and the store, the log and accepting need a few.
std::size_t connections_the_fd_limit_allows() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) {
    return std::numeric_limits<std::size_t>::max();
  }
  constexpr rlim_t kReserved = 32;
  return limit.rlim_cur > 2 * kReserved ? static_cast<std::size_t>(limit.rlim_cur - kReserved)
                                        : static_cast<std::size_t>(limit.rlim_cur / 2);
}

constexpr std::uint64_t kMaxSeconds = std::uint64_t{24} * 3600;

constexpr std::array<std::string_view, 15> kValueFlags{"--db",
                                                       "--tokens",
                                                       "--clerk-jwt-key",
                                                       "--clerk-authorized-party",
                                                       "--clerk-admin-claim",
                                                       "--listen",
                                                       "--threads",
                                                       "--max-connections",
                                                       "--max-header-bytes",
                                                       "--max-body-bytes",
                                                       "--max-page-bytes",
                                                       "--max-icp-bytes",
                                                       "--request-timeout",
                                                       "--write-timeout",
                                                       "--shutdown-timeout"};

}  // namespace

int usage_error(std::string_view message) {
  std::cerr << "icp-server: " << message << " (see icp-server --help)\n";
  return 2;
}

std::variant<Config, int> parse_args(int argc, char** argv) {
  Config config;
  config.threads = std::max(1U, std::thread::hardware_concurrency());
  config.limits.max_connections =
      std::min(config.limits.max_connections, connections_the_fd_limit_allows());
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
    if (std::ranges::find(kValueFlags, arg) == kValueFlags.end()) {
      return usage_error(fmt::format("unknown argument {}", arg));
    }
    if (i + 1 >= args.size() || args[i + 1].empty()) {
      return usage_error(fmt::format("{} needs a value", arg));
    }
    const auto value = args[++i];
    // A number flag: its value within [min, max], else a usage error.
    auto number = [&](std::uint64_t min, std::uint64_t max) -> std::optional<std::uint64_t> {
      auto parsed = parse_count(value, min, max);
      if (!parsed) {
        usage_error(
            fmt::format("{} needs a whole number from {} to {}, got \"{}\"", arg, min, max, value));
      }
      return parsed;
    };
    auto seconds = [&](std::chrono::seconds& out) {
      const auto parsed = number(1, kMaxSeconds);
      if (parsed) out = std::chrono::seconds{*parsed};
      return parsed.has_value();
    };
    auto& limits = config.limits;
    bool ok = true;
    if (arg == "--db") {
      config.db = value;
    } else if (arg == "--tokens") {
      config.tokens = value;
    } else if (arg == "--clerk-jwt-key") {
      config.clerk_key = value;
    } else if (arg == "--clerk-authorized-party") {
      config.clerk_authorized_parties.emplace_back(value);
    } else if (arg == "--clerk-admin-claim") {
      auto admin = value == "org-role"
                       ? Result<clerk::AdminClaim>(clerk::AdminClaim::organization_role())
                       : clerk::AdminClaim::parse(value);
      if (!admin) return usage_error(fmt::format("--clerk-admin-claim: {}", admin.error().message));
      if (!config.clerk_admin) {
        config.clerk_admin = *admin;
      } else {  // repeated: any of them makes an admin
        auto& alternatives = config.clerk_admin->alternatives;
        alternatives.emplace_back(admin->path, admin->value);
        alternatives.insert(alternatives.end(), admin->alternatives.begin(),
                            admin->alternatives.end());
      }
    } else if (arg == "--listen") {
      const auto listen = parse_listen(value);
      if (!listen) return usage_error(fmt::format("--listen needs HOST:PORT, got \"{}\"", value));
      std::tie(config.host, config.port) = *listen;
    } else if (arg == "--threads") {
      const auto threads = number(1, 256);
      if (threads) config.threads = static_cast<unsigned>(*threads);
      ok = threads.has_value();
    } else if (arg == "--max-connections") {
      const auto connections = number(1, 1'000'000);
      if (connections) limits.max_connections = *connections;
      ok = connections.has_value();
    } else if (arg == "--max-header-bytes") {
      const auto bytes = number(1024, std::uint64_t{1} << 20);
      if (bytes) limits.max_header_bytes = static_cast<std::uint32_t>(*bytes);
      ok = bytes.has_value();
    } else if (arg == "--max-body-bytes") {
      const auto bytes = number(1, std::uint64_t{1} << 30);
      if (bytes) limits.max_body_bytes = *bytes;
      ok = bytes.has_value();
    } else if (arg == "--max-page-bytes") {
      const auto bytes = number(1024, std::uint64_t{1} << 30);
      if (bytes) limits.max_page_bytes = *bytes;
      ok = bytes.has_value();
    } else if (arg == "--max-icp-bytes") {
      const auto bytes = number(1024, std::uint64_t{1} << 30);
      if (bytes) limits.max_icp_bytes = *bytes;
      ok = bytes.has_value();
    } else if (arg == "--request-timeout") {
      ok = seconds(limits.request_timeout);
    } else if (arg == "--write-timeout") {
      ok = seconds(limits.write_timeout);
    } else {  // --shutdown-timeout
      ok = seconds(limits.shutdown_timeout);
    }
    if (!ok) return 2;
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
