// icpctl: the ICP library from the command line.
//
// Exit status: 0 success; 1 the operation failed (the API's error body on
// stderr); 2 a usage error or an unusable database (one line on stderr).

#include <icp/icp.hpp>

#include "common/open_store.hpp"

#include <boost/json.hpp>
#include <fmt/format.h>

#include <charconv>
#include <fstream>
#include <iostream>
#include <iterator>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

namespace {

constexpr std::string_view kUsage = R"(Usage: icpctl --db PATH|URL COMMAND [ARGS] [OPTIONS]

Commands (the API's access rules apply to all but put):
  put [FILE|-]            Import one ICP object or a JSON array of them, kept
                          exactly as given (ids and timestamps too), inserting or
                          replacing by id; all or nothing. Administrative: no
                          access rules. Creates the database if missing. Prints
                          the ids. --org ORG imports into that organization
                          (default: none).
  get ID                  Get ICP. Prints the ICP as JSON (--etag: its ETag).
  list                    The caller's ICPs, newest first (--all: every ICP,
                          admins only), a page of --limit at a time. Prints a
                          JSON array; when more follow, prints "next cursor: C"
                          on stderr (pass it back with --cursor C).
  create [FILE|-]         Create ICP from a JSON body; the caller is added to
                          userIds. Prints the new ICP.
  update ID [FILE|-]      Update ICP with a partial JSON body (absent fields
                          stay, null clears). Prints the updated ICP.
  delete ID               Delete ICP. Prints the id.
  migrate                 Create the database's ICP schema, or upgrade it to this
                          build's version (an SQLite file is created if
                          missing). For PostgreSQL, run it as the database's
                          owner before servers that run with --pg-no-migrate
                          or as a role that may only read and write rows.

Options:
  --db PATH|URL           The SQLite database file, or a postgresql:// URL (required).
  --as USER_ID            The calling user (without it: an anonymous caller).
  --admin                 The caller is an admin (needs --as).
  --org ORG               The caller's organization (needs --as), or put's; only
                          ICPs of that organization are reached (default: none).
  --all                   list: every ICP rather than the caller's own.
  --limit N               list: at most N ICPs (1-500, default 50).
  --cursor C              list: continue after the page that gave C.
  --if-match ETAG         update, delete: only if the ICP is still at ETAG
                          (else PRECONDITION_FAILED).
  --etag                  get: print the ETag instead of the ICP.
  --pg-schema NAME        PostgreSQL: the schema holding the tables (default:
                          the connection's, normally public).
  --pg-transaction-pooling
                          PostgreSQL: the URL names a pooler in transaction
                          mode (PgBouncer pool_mode=transaction).
  --pg-no-migrate         PostgreSQL: never create or upgrade the schema, only
                          check it (commands other than migrate).
  -h, --help              Show this help.
  --version               Print the version.

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
  std::string organization;
  bool admin = false;
  bool all = false;
  bool etag = false;
  bool help = false;
  bool version = false;
  std::optional<std::size_t> limit;
  std::optional<std::string> cursor;
  std::optional<std::string> if_match;
  std::string pg_schema;
  bool pg_transaction_pooling = false;
  bool pg_no_migrate = false;
};

std::optional<std::size_t> parse_count(std::string_view text) {
  std::size_t count = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), count);
  if (ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return count;
}

std::variant<Args, UsageError> parse_args(std::span<char*> argv) {
  Args args;
  for (std::size_t i = 1; i < argv.size(); ++i) {
    const std::string_view arg = argv[i];
    const bool takes_value = arg == "--db" || arg == "--as" || arg == "--limit" ||
                             arg == "--cursor" || arg == "--if-match" || arg == "--org" ||
                             arg == "--pg-schema";
    if (takes_value) {
      if (i + 1 >= argv.size()) return UsageError{fmt::format("{} needs a value", arg)};
      const std::string value = argv[++i];
      if (value.empty()) return UsageError{fmt::format("{} needs a non-empty value", arg)};
      if (arg == "--db") {
        args.db = value;
      } else if (arg == "--as") {
        args.as_user = value;
      } else if (arg == "--org") {
        if (!icp::is_valid_organization(value)) {
          return UsageError{fmt::format("--org needs 1 to {} characters of visible ASCII",
                                        icp::kMaxOrganizationBytes)};
        }
        args.organization = value;
      } else if (arg == "--cursor") {
        args.cursor = value;
      } else if (arg == "--if-match") {
        args.if_match = value;
      } else if (arg == "--pg-schema") {
        args.pg_schema = value;
      } else {
        args.limit = parse_count(value);
        if (!args.limit)
          return UsageError{fmt::format("--limit needs a number, got \"{}\"", value)};
      }
    } else if (arg == "-h" || arg == "--help") {
      args.help = true;
    } else if (arg == "--version") {
      args.version = true;
    } else if (arg == "--admin") {
      args.admin = true;
    } else if (arg == "--all") {
      args.all = true;
    } else if (arg == "--etag") {
      args.etag = true;
    } else if (arg == "--pg-transaction-pooling") {
      args.pg_transaction_pooling = true;
    } else if (arg == "--pg-no-migrate") {
      args.pg_no_migrate = true;
    } else if (arg.starts_with("--") && arg.size() > 2) {
      return UsageError{fmt::format("unknown option {}", arg)};
    } else if (args.command.empty()) {
      args.command = arg;
    } else {
      args.positional.emplace_back(arg);
    }
  }
  if (args.admin && !args.as_user) return UsageError{"--admin needs --as USER_ID"};
  if (!args.organization.empty() && !args.as_user && args.command != "put") {
    return UsageError{"--org needs --as USER_ID (or the put command)"};
  }
  return args;
}

std::optional<std::string> read_input(const std::string& source) {
  if (source == "-") return std::string(std::istreambuf_iterator<char>(std::cin), {});
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

int print_icp(const icp::Result<icp::Icp>& icp) {
  if (!icp) return fail(icp.error());
  std::cout << icp::to_json(*icp) << '\n';
  return 0;
}

icp::AuthContext caller_of(const Args& args) {
  if (!args.as_user) return icp::AuthContext::anonymous();
  return args.admin ? icp::AuthContext::admin(*args.as_user, args.organization)
                    : icp::AuthContext::user(*args.as_user, args.organization);
}

std::optional<icp::IfMatch> if_match_of(const Args& args) {
  if (!args.if_match) return std::nullopt;
  return icp::parse_if_match(*args.if_match);
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

/// The body of create or update: the file named at `positional[index]`, or stdin.
std::optional<std::string> read_body(const Args& args, std::size_t index) {
  return read_input(args.positional.size() > index ? args.positional[index] : "-");
}

struct Context {
  const Args& args;
  icp::IcpStore& store;
  const icp::IcpService& service;
};

int run_put(const Context& c) {
  auto text = read_body(c.args, 0);
  if (!text) return usage_error(fmt::format("cannot read {}", c.args.positional.at(0)));
  auto icps = parse_icps(*text);
  if (!icps) return fail(icps.error());
  // Every import is a new write of each ICP, so each gets a new ETag.
  for (auto& icp : *icps) {
    icp.revision = icp::new_revision();
    icp.organization = c.args.organization;
  }
  const icp::WriteIcpsRequest batch{.icps = *icps, .mode = icp::WriteMode::upsert};
  if (auto valid = icp::validate(batch); !valid) return fail(valid.error());
  if (auto written = c.store.write(batch); !written) return fail(written.error());
  for (const auto& icp : *icps) std::cout << icp.id << '\n';
  return 0;
}

int run_get(const Context& c) {
  const auto icp = c.service.get(c.args.positional.at(0), caller_of(c.args));
  if (icp && c.args.etag) {
    std::cout << icp::etag_of(*icp) << '\n';
    return 0;
  }
  return print_icp(icp);
}

int run_list(const Context& c) {
  icp::ListOptions options{.scope = c.args.all ? icp::ListScope::all : icp::ListScope::mine};
  if (c.args.limit) options.limit = *c.args.limit;
  if (c.args.cursor) options.cursor = *c.args.cursor;
  const auto page = c.service.list(caller_of(c.args), options);
  if (!page) return fail(page.error());
  std::string out = "[";
  for (const auto& icp : page->icps) {
    if (out.size() > 1) out += ',';
    icp::append_json(out, icp);
  }
  std::cout << out << "]\n";
  if (page->next_cursor) std::cerr << "next cursor: " << *page->next_cursor << '\n';
  return 0;
}

int run_create(const Context& c) {
  auto body = read_body(c.args, 0);
  if (!body) return usage_error(fmt::format("cannot read {}", c.args.positional.at(0)));
  return print_icp(c.service.create(std::string_view(*body), caller_of(c.args)));
}

int run_update(const Context& c) {
  auto body = read_body(c.args, 1);
  if (!body) return usage_error(fmt::format("cannot read {}", c.args.positional.at(1)));
  return print_icp(c.service.update(c.args.positional.at(0), std::string_view(*body),
                                    caller_of(c.args), if_match_of(c.args)));
}

int run_delete(const Context& c) {
  const auto& id = c.args.positional.at(0);
  const auto removed = c.service.remove(id, caller_of(c.args), if_match_of(c.args));
  if (!removed) return fail(removed.error());
  std::cout << icp::canonical_icp_id(id).value_or(id) << '\n';
  return 0;
}

/// The PostgreSQL settings the flags give (ignored for an SQLite file).
icp::apps::PostgresSettings postgres_settings([[maybe_unused]] const Args& args) {
  icp::apps::PostgresSettings settings;
#ifdef ICP_APPS_WITH_POSTGRES
  settings.schema = args.pg_schema;
  settings.transaction_pooling = args.pg_transaction_pooling;
  settings.migrate = !args.pg_no_migrate;
#endif
  return settings;
}

struct Command {
  std::string_view name;
  std::size_t min_args;
  std::size_t max_args;
  std::string_view arguments;  // for the usage message
  int (*run)(const Context&);
};

constexpr std::array kCommands{
    Command{"put", 0, 1, "at most one FILE", run_put},
    Command{"get", 1, 1, "exactly one ID", run_get},
    Command{"list", 0, 0, "no arguments", run_list},
    Command{"create", 0, 1, "at most one FILE", run_create},
    Command{"update", 1, 2, "an ID and at most one FILE", run_update},
    Command{"delete", 1, 1, "exactly one ID", run_delete},
    Command{"migrate", 0, 0, "no arguments", nullptr},
};

int run(int argc, char** argv) {
  const auto parsed = parse_args(std::span(argv, static_cast<std::size_t>(argc)));
  if (const auto* error = std::get_if<UsageError>(&parsed)) return usage_error(error->message);
  const auto& args = std::get<Args>(parsed);
  if (args.version) {
    std::cout << "icpctl " << icp::version() << '\n';
    return 0;
  }
  if (args.help) {
    std::cout << kUsage;
    return 0;
  }
  if (args.db.empty()) return usage_error("--db PATH|URL is required");
  if (args.command.empty()) return usage_error("a command is required");
  const auto* command = std::ranges::find(kCommands, args.command, &Command::name);
  if (command == kCommands.end()) {
    return usage_error(fmt::format("unknown command \"{}\"", args.command));
  }
  if (args.positional.size() < command->min_args || args.positional.size() > command->max_args) {
    return usage_error(fmt::format("{} takes {}", command->name, command->arguments));
  }

  if (command->name == "migrate") {
    if (auto migrated = icp::apps::migrate_store(args.db, postgres_settings(args)); !migrated) {
      std::cerr << "icpctl: " << migrated.error().message << '\n';
      return 2;
    }
    return 0;
  }
  auto store = icp::apps::open_store(args.db, command->name == "put", postgres_settings(args));
  if (!store) {
    std::cerr << "icpctl: " << store.error().message << '\n';
    return 2;
  }
  const icp::IcpService service(*store);
  return command->run(Context{args, **store, service});
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
