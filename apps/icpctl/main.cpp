// icpctl: the ICP library from the command line.
//
// Exit status: 0 success; 1 the operation failed (the API's error body on
// stderr); 2 a usage error or an unusable database (one line on stderr).

#include <icp/icp.hpp>

#include <fmt/format.h>
#include <boost/json.hpp>

#include <charconv>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

namespace {

constexpr std::string_view kUsage = R"(Usage: icpctl --db PATH COMMAND [ARGS]

Commands:
  put [FILE|-]                     Import one ICP object or a JSON array of them,
                                   kept exactly as given (ids and timestamps too),
                                   inserting or replacing by id. All or nothing.
                                   Creates the database if missing. Prints the ids.
  get ID [--as USER_ID] [--admin]  Get ICP as that caller (no --as: anonymous).
                                   Prints the ICP as JSON.
  list --as USER_ID [--admin] [--all] [--limit N]
                                   The caller's ICPs, newest first (--all: every
                                   ICP, admins only). Prints a JSON array.
  delete ID                        Delete an ICP (administrative: no access check).

Options:
  --db PATH      The SQLite database file (required).
  --as USER_ID   The calling user.
  --admin        The caller is an admin (needs --as).
  --all          List every ICP rather than the caller's own.
  --limit N      At most N ICPs (1-500, default 50).
  -h, --help     Show this help.

Exit status: 0 success; 1 the operation failed, with the API's error body
({"error":{"code":...,"message":...}}) on stderr; 2 a usage error or an
unusable database.
)";

struct UsageError {
  std::string message;
};

struct Args {
  std::string db;
  std::string command;
  std::vector<std::string> positional;
  std::optional<std::string> as_user;
  bool admin = false;
  bool all = false;
  std::optional<std::size_t> limit;
  bool help = false;
};

std::variant<Args, UsageError> parse_args(std::span<char*> argv) {
  Args args;
  for (std::size_t i = 1; i < argv.size(); ++i) {
    const std::string_view arg = argv[i];
    auto next_value = [&]() -> std::optional<std::string> {
      if (i + 1 >= argv.size()) return std::nullopt;
      return std::string(argv[++i]);
    };
    if (arg == "-h" || arg == "--help") {
      args.help = true;
    } else if (arg == "--db" || arg == "--as" || arg == "--limit") {
      auto value = next_value();
      if (!value) return UsageError{fmt::format("{} needs a value", arg)};
      if (arg == "--db") {
        args.db = *value;
      } else if (arg == "--as") {
        if (value->empty()) return UsageError{"--as needs a non-empty user id"};
        args.as_user = *value;
      } else {
        const std::string_view text = *value;
        std::size_t limit = 0;
        const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), limit);
        if (ec != std::errc{} || end != text.data() + text.size()) {
          return UsageError{fmt::format("--limit needs a number, got \"{}\"", text)};
        }
        args.limit = limit;
      }
    } else if (arg == "--admin") {
      args.admin = true;
    } else if (arg == "--all") {
      args.all = true;
    } else if (arg.starts_with("--") && arg.size() > 2) {
      return UsageError{fmt::format("unknown option {}", arg)};
    } else if (args.command.empty()) {
      args.command = arg;
    } else {
      args.positional.emplace_back(arg);
    }
  }
  return args;
}

std::optional<std::string> read_input(const std::string& source) {
  if (source == "-") {
    return std::string(std::istreambuf_iterator<char>(std::cin), {});
  }
  std::ifstream in(source, std::ios::binary);
  if (!in) return std::nullopt;
  return std::string(std::istreambuf_iterator<char>(in), {});
}

int fail(const icp::Error& error) {
  std::cerr << icp::error_body(error) << '\n';
  return 1;
}

int usage_error(std::string_view message) {
  std::cerr << "icpctl: " << message << " (see icpctl --help)\n";
  return 2;
}

icp::AuthContext caller_of(const Args& args) {
  if (!args.as_user) return icp::AuthContext::anonymous();
  return args.admin ? icp::AuthContext::admin(*args.as_user)
                    : icp::AuthContext::user(*args.as_user);
}

/// Parses one ICP or an array of them; problems of element i get paths `[i].field`.
icp::Result<std::vector<icp::Icp>> parse_icps(std::string_view text) {
  auto value = icp::parse_json(text);
  if (!value) return value.error();
  if (!value->is_array()) {
    auto icp = icp::icp_from_json(*value);
    if (!icp) return icp.error();
    return std::vector<icp::Icp>{std::move(*icp)};
  }
  std::vector<icp::Icp> icps;
  std::vector<icp::ErrorDetail> problems;
  const auto& array = value->get_array();
  for (std::size_t i = 0; i < array.size(); ++i) {
    auto icp = icp::icp_from_json(array[i]);
    if (icp) {
      icps.push_back(std::move(*icp));
      continue;
    }
    for (auto& detail : icp.error().details) {
      const std::string_view separator = detail.path.empty() ? "" : ".";
      problems.push_back({fmt::format("[{}]{}{}", i, separator, detail.path), detail.message});
    }
  }
  if (!problems.empty()) {
    auto message =
        fmt::format("invalid ICP at {}: {}", problems.front().path, problems.front().message);
    return icp::Error{icp::Errc::bad_request, std::move(message), std::move(problems)};
  }
  return icps;
}

int run_put(const Args& args, icp::IcpStore& store) {
  if (args.positional.size() > 1) return usage_error("put takes at most one FILE");
  const std::string source = args.positional.empty() ? "-" : args.positional[0];
  const auto text = read_input(source);
  if (!text) return usage_error(fmt::format("cannot read {}", source));
  auto icps = parse_icps(*text);
  if (!icps) return fail(icps.error());
  if (auto written = store.write({.icps = *icps, .mode = icp::WriteMode::upsert}); !written) {
    return fail(written.error());
  }
  for (const auto& icp : *icps) std::cout << icp.id << '\n';
  return 0;
}

int run_get(const Args& args, const icp::IcpService& service) {
  if (args.positional.size() != 1) return usage_error("get takes exactly one ID");
  if (args.admin && !args.as_user) return usage_error("--admin needs --as USER_ID");
  const auto icp = service.get(args.positional[0], caller_of(args));
  if (!icp) return fail(icp.error());
  std::cout << icp::to_json(*icp) << '\n';
  return 0;
}

int run_list(const Args& args, const icp::IcpService& service) {
  if (!args.positional.empty()) return usage_error("list takes no arguments");
  if (!args.as_user) return usage_error("list needs --as USER_ID");
  icp::ListOptions options{.scope = args.all ? icp::ListScope::all : icp::ListScope::mine};
  if (args.limit) options.limit = *args.limit;
  const auto icps = service.list(caller_of(args), options);
  if (!icps) return fail(icps.error());
  std::string out = "[";
  for (const auto& icp : *icps) {
    if (out.size() > 1) out += ',';
    icp::append_json(out, icp);
  }
  std::cout << out << "]\n";
  return 0;
}

int run_delete(const Args& args, icp::IcpStore& store) {
  if (args.positional.size() != 1) return usage_error("delete takes exactly one ID");
  const auto& id = args.positional[0];
  const auto canonical = icp::canonical_icp_id(id);
  if (!canonical) return fail({icp::Errc::not_found, fmt::format("ICP not found: {}", id)});
  const auto erased = store.erase({.id = *canonical});
  if (!erased) return fail(erased.error());
  if (!*erased) return fail({icp::Errc::not_found, fmt::format("ICP not found: {}", *canonical)});
  std::cout << *canonical << '\n';
  return 0;
}

int run(int argc, char** argv) {
  const auto parsed = parse_args(std::span(argv, static_cast<std::size_t>(argc)));
  if (const auto* error = std::get_if<UsageError>(&parsed)) return usage_error(error->message);
  const auto& args = std::get<Args>(parsed);
  if (args.help) {
    std::cout << kUsage;
    return 0;
  }
  if (args.db.empty()) return usage_error("--db PATH is required");
  if (args.command.empty()) return usage_error("a command is required");
  const bool known = args.command == "put" || args.command == "get" || args.command == "list" ||
                     args.command == "delete";
  if (!known) return usage_error(fmt::format("unknown command \"{}\"", args.command));

  auto store = icp::open_sqlite_store(args.db, {.create_if_missing = args.command == "put"});
  if (!store) {
    std::cerr << "icpctl: " << store.error().message << '\n';
    return 2;
  }
  const icp::IcpService service(*store);
  if (args.command == "put") return run_put(args, **store);
  if (args.command == "get") return run_get(args, service);
  if (args.command == "list") return run_list(args, service);
  return run_delete(args, **store);
}

}  // namespace

int main(int argc, char** argv) {
  // The library reports failures as values; this catches only what it cannot
  // (running out of memory, a failing standard stream).
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "icpctl: " << e.what() << '\n';
    return 2;
  }
}
