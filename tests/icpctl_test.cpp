// icpctl, run as a user would: a real process, real files, exit codes.
#include <icp/json.hpp>
#include <icp/testing/store_conformance.hpp>

#include "test_stores.hpp"

#include <boost/json.hpp>
#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <iterator>

namespace {

struct Run {
  int status = -1;
  std::string out;
  std::string err;
};

std::string slurp(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string shell_quoted(std::string_view arg) {
  std::string out = "'";
  for (const char c : arg) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

class Icpctl {
 public:
  Icpctl() : db_(dir_.path() / "icps.db") {}

  [[nodiscard]] const std::filesystem::path& db() const { return db_; }
  [[nodiscard]] const std::filesystem::path& dir() const { return dir_.path(); }

  /// Runs `icpctl --db <db> args...` with `input` on stdin.
  Run operator()(const std::vector<std::string>& args, std::string_view input = "",
                 bool with_db = true) const {
    std::ofstream(dir_.path() / "stdin", std::ios::binary) << input;
    // Appended piece by piece: GCC 12 at -O2 warns (-Wrestrict, a false
    // positive) about `" " + std::string`.
    std::string command = shell_quoted(ICPCTL_PATH);
    if (with_db) command.append(" --db ").append(shell_quoted(db_.string()));
    for (const auto& arg : args) command.append(" ").append(shell_quoted(arg));
    command.append(" <").append(shell_quoted((dir_.path() / "stdin").string()));
    command.append(" >").append(shell_quoted((dir_.path() / "stdout").string()));
    command.append(" 2>").append(shell_quoted((dir_.path() / "stderr").string()));
    const int raw = std::system(command.c_str());
    return Run{WIFEXITED(raw) ? WEXITSTATUS(raw) : -1, slurp(dir_.path() / "stdout"),
               slurp(dir_.path() / "stderr")};
  }

 private:
  icp::test::TempDir dir_;
  std::filesystem::path db_;
};

constexpr std::string_view kExampleId = "550e8400-e29b-41d4-a716-446655440000";

std::string error_code_of(const Run& run) {
  return std::string(boost::json::parse(run.err).at("error").at("code").as_string());
}

}  // namespace

TEST_CASE("icpctl: put then get as member, admin, stranger, anonymous", "[icpctl]") {
  const Icpctl icpctl;
  const auto put = icpctl({"put", "-"}, icp::testing::spec_example_json());
  REQUIRE(put.status == 0);
  CHECK(put.out == std::string(kExampleId) + "\n");

  const auto member = icpctl({"get", std::string(kExampleId), "--as", "user_abc123"});
  CHECK(member.status == 0);
  CHECK(member.out == icp::to_json(icp::testing::spec_example()) + "\n");
  CHECK(member.err.empty());

  const auto admin =
      icpctl({"get", "550E8400-E29B-41D4-A716-446655440000", "--as", "root", "--admin"});
  CHECK(admin.status == 0);
  CHECK(admin.out == member.out);

  const auto stranger = icpctl({"get", std::string(kExampleId), "--as", "user_000001"});
  CHECK(stranger.status == 1);
  CHECK(stranger.out.empty());
  CHECK(stranger.err ==
        R"({"error":{"code":"FORBIDDEN","message":"You do not have access to this ICP"}})"
        "\n");

  const auto anonymous = icpctl({"get", std::string(kExampleId)});
  CHECK(anonymous.status == 1);
  CHECK(error_code_of(anonymous) == "UNAUTHORIZED");

  const auto missing = icpctl({"get", "00000000-0000-4000-8000-000000000000", "--as", "u"});
  CHECK(missing.status == 1);
  CHECK(error_code_of(missing) == "NOT_FOUND");
}

TEST_CASE("icpctl: put --org imports into one organization; --org picks the caller's",
          "[icpctl][organizations]") {
  const Icpctl icpctl;
  REQUIRE(icpctl({"put", "-", "--org", "org_a"}, icp::testing::spec_example_json()).status == 0);
  const std::string id(kExampleId);
  // Its members and admins in org_a reach it; nobody elsewhere does, admins included.
  CHECK(icpctl({"get", id, "--as", "user_abc123", "--org", "org_a"}).status == 0);
  CHECK(icpctl({"get", id, "--as", "root", "--admin", "--org", "org_a"}).status == 0);
  for (const auto& outside : std::vector<std::vector<std::string>>{
           {"get", id, "--as", "user_abc123"},
           {"get", id, "--as", "root", "--admin"},
           {"get", id, "--as", "root", "--admin", "--org", "org_b"}}) {
    const auto run = icpctl(outside);
    CHECK(run.status == 1);
    CHECK(error_code_of(run) == "NOT_FOUND");
  }
  // put and list agree on where it went.
  const auto listed = icpctl({"list", "--as", "root", "--admin", "--all", "--org", "org_a"});
  REQUIRE(listed.status == 0);
  CHECK(boost::json::parse(listed.out).as_array().size() == 1);
  const auto elsewhere = icpctl({"list", "--as", "root", "--admin", "--all"});
  REQUIRE(elsewhere.status == 0);
  CHECK(boost::json::parse(elsewhere.out).as_array().empty());
  // The same ICP may be imported into another organization beside it.
  REQUIRE(icpctl({"put", "-", "--org", "org_b"}, icp::testing::spec_example_json()).status == 0);
  CHECK(icpctl({"delete", id, "--as", "root", "--admin", "--org", "org_b"}).status == 0);
  CHECK(icpctl({"get", id, "--as", "user_abc123", "--org", "org_a"}).status == 0);
}

TEST_CASE("icpctl: put keeps an array exactly, all or nothing", "[icpctl]") {
  const Icpctl icpctl;
  auto first = boost::json::parse(icp::testing::spec_example_json()).as_object();
  auto second = first;
  second["id"] = "00000000-0000-4000-8000-000000000002";
  second.erase("crmFilters");  // absent stays absent
  const auto file = icpctl.dir() / "icps.json";
  std::ofstream(file) << boost::json::serialize(boost::json::array{first, second});
  const auto put = icpctl({"put", file.string()});
  REQUIRE(put.status == 0);
  CHECK(put.out == std::string(kExampleId) + "\n00000000-0000-4000-8000-000000000002\n");
  const auto got = icpctl({"get", "00000000-0000-4000-8000-000000000002", "--as", "user_abc123"});
  CHECK(got.out == boost::json::serialize(second) + "\n");

  // One bad element: nothing of the batch is written, every problem is named.
  auto third = first;
  third["id"] = "00000000-0000-4000-8000-000000000003";
  auto broken = first;
  broken["leadProviderCriteria"].as_array()[0].as_object()["filters"] = "none";
  broken["name"] = "";
  const auto bad = icpctl({"put", "-"}, boost::json::serialize(boost::json::array{third, broken}));
  CHECK(bad.status == 1);
  const auto body = boost::json::parse(bad.err);
  CHECK(body.at("error").at("code") == "BAD_REQUEST");
  CHECK(body.at("error").at("details") ==
        boost::json::parse(R"([{"path":"[1].name","message":"must not be empty"},)"
                           R"({"path":"[1].leadProviderCriteria[0].filters",)"
                           R"("message":"expected an object, got a string"}])"));
  CHECK(icpctl({"get", "00000000-0000-4000-8000-000000000003", "--as", "root", "--admin"}).status ==
        1);

  // The same id twice: refused before the store sees it, nothing written.
  third["name"] = "Twice";
  const auto twice = icpctl({"put", "-"}, boost::json::serialize(boost::json::array{third, third}));
  CHECK(twice.status == 1);
  CHECK(error_code_of(twice) == "BAD_REQUEST");
  CHECK(twice.err.find("appears twice") != std::string::npos);
  CHECK(icpctl({"get", "00000000-0000-4000-8000-000000000003", "--as", "root", "--admin"}).status ==
        1);
}

TEST_CASE("icpctl: list pages through the caller's ICPs", "[icpctl]") {
  const Icpctl icpctl;
  REQUIRE(icpctl({"put"}, icp::testing::spec_example_json()).status == 0);
  for (int i = 0; i < 3; ++i) {
    REQUIRE(icpctl({"create", "--as", "user_def456"}, R"({"name":"N","leadProviderCriteria":[]})")
                .status == 0);
  }
  const auto first = icpctl({"list", "--as", "user_def456", "--limit", "3"});
  CHECK(first.status == 0);
  CHECK(boost::json::parse(first.out).as_array().size() == 3);
  REQUIRE_THAT(first.err, Catch::StartsWith("next cursor: "));
  std::string cursor = first.err.substr(13);
  cursor.pop_back();  // the newline
  const auto second = icpctl({"list", "--as", "user_def456", "--limit", "3", "--cursor", cursor});
  CHECK(second.status == 0);
  const auto rest = boost::json::parse(second.out).as_array();
  REQUIRE(rest.size() == 1);
  CHECK(rest[0].at("id").as_string() == kExampleId);  // the oldest comes last
  CHECK(second.err.empty());

  CHECK(icpctl({"list", "--as", "user_000001"}).out == "[]\n");
  CHECK(boost::json::parse(icpctl({"list", "--as", "root", "--admin", "--all"}).out)
            .as_array()
            .size() == 4);
  const auto not_admin = icpctl({"list", "--as", "user_abc123", "--all"});
  CHECK(not_admin.status == 1);
  CHECK(error_code_of(not_admin) == "FORBIDDEN");
  CHECK(error_code_of(icpctl({"list"})) == "UNAUTHORIZED");
}

TEST_CASE("icpctl: create, update with If-Match, delete", "[icpctl]") {
  const Icpctl icpctl;
  // Only put creates a database; the others need one.
  CHECK(icpctl({"create", "--as", "u"}, "{}").status == 2);
  REQUIRE(icpctl({"put"}, icp::testing::spec_example_json()).status == 0);
  const auto created = icpctl({"create", "-", "--as", "user_new"},
                              R"({"name":"Mine","leadProviderCriteria":[],"userIds":["user_b"]})");
  REQUIRE(created.status == 0);
  const auto icp = boost::json::parse(created.out).as_object();
  const std::string id(icp.at("id").as_string());
  CHECK(icp.at("userIds") == boost::json::parse(R"(["user_b","user_new"])"));
  CHECK(icp.at("leadsPerList") == 10);

  const auto etag = icpctl({"get", id, "--as", "user_b", "--etag"});
  REQUIRE(etag.status == 0);
  REQUIRE(etag.out.size() == 19);  // "16 hex digits" and a newline
  const std::string tag = etag.out.substr(0, 18);

  const auto patch = icpctl.dir() / "patch.json";
  std::ofstream(patch) << R"({"description":"now described"})";
  const auto stranger = icpctl({"update", id, patch.string(), "--as", "user_c"});
  CHECK(stranger.status == 1);
  CHECK(error_code_of(stranger) == "FORBIDDEN");
  const auto updated = icpctl({"update", id, patch.string(), "--as", "user_b", "--if-match", tag});
  CHECK(updated.status == 0);
  CHECK(boost::json::parse(updated.out).at("description") == "now described");
  const auto stale = icpctl({"update", id, "--as", "user_b", "--if-match", tag}, R"({"name":"X"})");
  CHECK(stale.status == 1);
  CHECK(error_code_of(stale) == "PRECONDITION_FAILED");
  const auto invalid = icpctl({"update", id, "--as", "user_b"}, R"({"leadsPerList":0})");
  CHECK(invalid.status == 1);
  CHECK(error_code_of(invalid) == "BAD_REQUEST");

  CHECK(error_code_of(icpctl({"delete", id, "--as", "user_c"})) == "FORBIDDEN");
  CHECK(error_code_of(icpctl({"delete", id, "--as", "user_b", "--if-match", tag})) ==
        "PRECONDITION_FAILED");
  const auto deleted = icpctl({"delete", id, "--as", "user_new"});
  CHECK(deleted.status == 0);
  CHECK(deleted.out == id + "\n");
  const auto again = icpctl({"delete", id, "--as", "user_new"});
  CHECK(again.status == 1);
  CHECK(error_code_of(again) == "NOT_FOUND");
}

TEST_CASE("icpctl: usage errors are one line and exit 2", "[icpctl]") {
  const Icpctl icpctl;
  REQUIRE(icpctl({"put"}, icp::testing::spec_example_json()).status == 0);
  const std::string id(kExampleId);
  const std::vector<std::vector<std::string>> cases{
      {},
      {"frobnicate"},
      {"get"},
      {"get", "a", "b"},
      {"get", id, "--as"},
      {"get", id, "--admin"},
      {"get", id, "--as", ""},
      {"get", id, "--bogus"},
      {"list", "--as", "u", "--limit", "ten"},
      {"list", "--as", "u", "--cursor"},
      {"list", "extra"},
      {"delete"},
      {"update"},
      {"update", id, "a.json", "b.json"},
      {"update", id, "--if-match"},
      {"create", "a.json", "b.json"},
      {"put", "/nonexistent/file.json"},
      {"get", id, "--org", "org_a"},
      {"get", id, "--as", "u", "--org", "org a"},
      {"get", id, "--as", "u", "--org", std::string(257, 'o')},
      {"migrate", "extra"},
      {"get", id, "--pg-schema"},
      {"get", id, "--pg-schema", ""},
  };
  for (const auto& args : cases) {
    std::string joined;
    for (const auto& arg : args) joined += arg + " ";
    CAPTURE(joined);
    const auto run = icpctl(args);
    CHECK(run.status == 2);
    CHECK(run.out.empty());
    CHECK(std::count(run.err.begin(), run.err.end(), '\n') == 1);
    CHECK_THAT(run.err, Catch::StartsWith("icpctl: "));
  }
  const auto no_db = icpctl({"get", std::string(kExampleId)}, "", false);
  CHECK(no_db.status == 2);
  CHECK_THAT(no_db.err, Catch::Contains("--db PATH|URL is required"));
}

TEST_CASE("icpctl: an unusable database is one line and exit 2", "[icpctl]") {
  const Icpctl icpctl;
  // get never creates a database.
  const auto missing = icpctl({"get", std::string(kExampleId), "--as", "u"});
  CHECK(missing.status == 2);
  CHECK_THAT(missing.err, Catch::Contains("no ICP database at"));
  CHECK_FALSE(std::filesystem::exists(icpctl.db()));
  std::ofstream(icpctl.db()) << "not a database, but a long enough text file to have a header.....";
  const auto garbage = icpctl({"list", "--as", "u"});
  CHECK(garbage.status == 2);
  CHECK_THAT(garbage.err, Catch::Contains("is not an SQLite database"));
#ifdef ICP_TEST_WITH_POSTGRES
  // A malformed URL: libpq's message would quote it, password and all.
  const auto url =
      icpctl({"--db", "postgresql://app:SECRET@[::1/db", "list", "--as", "u"}, "", false);
  CHECK(url.status == 2);
  CHECK_THAT(url.err, Catch::Contains("not a PostgreSQL URL"));
  CHECK_THAT(url.err, !Catch::Contains("SECRET"));
#endif
}

TEST_CASE("icpctl: migrate creates or upgrades the schema, and nothing else", "[icpctl]") {
  const Icpctl icpctl;
  // An SQLite file is created, as put would; then get finds an empty database.
  const auto created = icpctl({"migrate"});
  CHECK(created.status == 0);
  CHECK(created.out.empty());
  CHECK(std::filesystem::exists(icpctl.db()));
  CHECK(icpctl({"migrate"}).status == 0);                                    // again: nothing to do
  CHECK(icpctl({"get", std::string(kExampleId), "--as", "u"}).status == 1);  // NOT_FOUND
#ifdef ICP_TEST_WITH_POSTGRES
  if (!icp::test::store_available("postgres")) return;
  const icp::test::ScratchSchema schema(*icp::test::postgres_url());
  auto with_schema = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"--db", *icp::test::postgres_url(), "--pg-schema", schema.name()});
    return icpctl(args, icp::testing::spec_example_json(), false);
  };
  // --pg-no-migrate: a missing schema is refused, saying what to run.
  const auto refused = with_schema({"--pg-no-migrate", "put"});
  CHECK(refused.status == 2);
  CHECK_THAT(refused.err, Catch::Contains("icpctl migrate --db URL"));
  CHECK(std::count(refused.err.begin(), refused.err.end(), '\n') == 1);
  REQUIRE(with_schema({"migrate"}).status == 0);
  CHECK(with_schema({"--pg-no-migrate", "put"}).status == 0);
  CHECK(with_schema({"--pg-no-migrate", "--pg-transaction-pooling", "get", std::string(kExampleId),
                     "--as", "user_abc123"})
            .status == 0);
  icp::test::PgSession admin(*icp::test::postgres_url());
  CHECK(admin.value(fmt::format("SELECT count(*) FROM {}.icps", schema.name())) == "1");
#endif
}

TEST_CASE("icpctl: --help documents every command", "[icpctl]") {
  const Icpctl icpctl;
  const auto help = icpctl({"--help"}, "", false);
  CHECK(help.status == 0);
  for (const auto* word :
       {"put", "get", "list", "create", "update", "delete", "--as", "--admin", "--all", "--limit",
        "--cursor", "--if-match", "--etag", "--db", "migrate", "--pg-schema",
        "--pg-transaction-pooling", "--pg-no-migrate", "Exit status"}) {
    CHECK_THAT(help.out, Catch::Contains(word));
  }
  const auto version = icpctl({"--version"}, "", false);
  CHECK(version.status == 0);
  CHECK_THAT(version.out, Catch::StartsWith("icpctl ") && Catch::EndsWith("\n"));
  CHECK(version.out.find('.') != std::string::npos);
}
