#include <icp/etag.hpp>
#include <icp/id.hpp>
#include <icp/json.hpp>
#include <icp/service.hpp>
#include <icp/testing/store_conformance.hpp>
#include <icp/testing/store_wrappers.hpp>

#include "test_stores.hpp"

#include <boost/json.hpp>

#include <mutex>
#include <set>
#include <thread>

namespace {

using icp::AuthContext;
using icp::Errc;
using icp::IfMatch;
using icp::testing::FaultInjectingStore;
using icp::testing::FaultKind;
using icp::testing::RecordingStore;
using icp::testing::StoreOperation;

constexpr std::string_view kExampleId = "550e8400-e29b-41d4-a716-446655440000";
constexpr std::string_view kMissingId = "00000000-0000-4000-8000-000000000000";

/// A service over a store of the given kind, holding the spec's example.
struct Fixture {
  explicit Fixture(std::string_view kind, icp::ServiceOptions options = {})
      : recording(std::make_shared<RecordingStore>(icp::test::make_store(kind, dir))),
        faulty(std::make_shared<FaultInjectingStore>(recording)),
        service(faulty, std::move(options)) {
    const auto example = icp::testing::spec_example();
    REQUIRE(recording->write({.icps = {&example, 1}}).has_value());
  }

  icp::test::TempDir dir;
  std::shared_ptr<RecordingStore> recording;
  std::shared_ptr<FaultInjectingStore> faulty;
  icp::IcpService service;
};

std::string_view any_store() { return GENERATE(from_range(icp::test::store_kinds())); }

}  // namespace

TEST_CASE("get: listed users and admins receive the ICP", "[service]") {
  Fixture f(any_store());
  for (const auto& caller : {AuthContext::user("user_abc123"), AuthContext::user("user_def456"),
                             AuthContext::admin("user_admin")}) {
    const auto icp = f.service.get(kExampleId, caller);
    REQUIRE(icp.has_value());
    CHECK(*icp == icp::testing::spec_example());
  }
}

TEST_CASE("get: an anonymous caller is unauthorized before the store is touched", "[service]") {
  Fixture f(any_store());
  const auto before = f.recording->total_calls();
  for (const std::string_view id : {kExampleId, std::string_view("not-a-uuid"),
                                    std::string_view("00000000-0000-4000-8000-000000000000")}) {
    const auto result = f.service.get(id, AuthContext::anonymous());
    REQUIRE_FALSE(result.has_value());
    CHECK(result.error().code == Errc::unauthorized);
    CHECK(icp::http_status(result.error().code) == 401);
  }
  // Even a failing store is not reached.
  f.faulty->inject(StoreOperation::get, FaultKind::exception);
  CHECK(f.service.get(kExampleId, AuthContext::anonymous()).error().code == Errc::unauthorized);
  CHECK(f.recording->total_calls() == before);
}

TEST_CASE("a caller whose user id or organization no store can key on is unauthorized",
          "[service]") {
  using namespace std::string_literals;
  Fixture f(any_store());
  const auto before = f.recording->total_calls();
  for (const auto& caller :
       {AuthContext::user(""), AuthContext::user("user\0a"s), AuthContext::user("user\na"),
        AuthContext::user("user\xff"),
        AuthContext::admin(std::string(icp::kMaxUserIdBytes + 1, 'u')),
        AuthContext::user("user_a", "org with space"),
        AuthContext::admin("user_a", std::string(icp::kMaxOrganizationBytes + 1, 'o'))}) {
    CAPTURE(caller.user_id(), caller.organization());
    CHECK(f.service.get(kExampleId, caller).error().code == Errc::unauthorized);
    CHECK(f.service.list(caller).error().code == Errc::unauthorized);
    CHECK(f.service.create(R"({"name":"x","leadProviderCriteria":[]})", caller).error().code ==
          Errc::unauthorized);
    CHECK(f.service.update(kExampleId, R"({"name":"y"})", caller).error().code ==
          Errc::unauthorized);
    CHECK(f.service.remove(kExampleId, caller).error().code == Errc::unauthorized);
  }
  CHECK(f.recording->total_calls() == before);
  // The longest allowed are signed in.
  const auto longest = AuthContext::admin(std::string(icp::kMaxUserIdBytes, 'u'),
                                          std::string(icp::kMaxOrganizationBytes, 'o'));
  CHECK(f.service.list(longest).has_value());
}

TEST_CASE("create and update hold user ids to 1 to 256 bytes without control characters",
          "[service]") {
  Fixture f(any_store());
  const auto caller = AuthContext::user("user_abc123");
  const std::string longest(icp::kMaxUserIdBytes, 'u');
  const auto created = f.service.create(
      fmt::format(R"({{"name":"x","leadProviderCriteria":[],"userIds":["{}"]}})", longest), caller);
  REQUIRE(created.has_value());
  const std::string rule = "must be at most 256 bytes, without control characters";
  for (const auto& bad : {longest + "u", std::string(R"(user\ta)"), std::string(R"(\u007f)")}) {
    CAPTURE(bad);
    const auto refused = f.service.create(
        fmt::format(R"({{"name":"x","leadProviderCriteria":[],"userIds":["user_b","{}"]}})", bad),
        caller);
    REQUIRE_FALSE(refused.has_value());
    CHECK(refused.error().code == Errc::bad_request);
    CHECK(refused.error().details == std::vector<icp::ErrorDetail>{{"userIds[1]", rule}});
    const auto patched =
        f.service.update(created->id, fmt::format(R"({{"userIds":["{}"]}})", bad), caller);
    REQUIRE_FALSE(patched.has_value());
    CHECK(patched.error().details == std::vector<icp::ErrorDetail>{{"userIds[0]", rule}});
  }
  // A body built by hand, never parsed, is held to the same rules.
  boost::json::object by_hand{{"name", std::string("a\0b", 3)},
                              {"leadProviderCriteria", boost::json::array{}}};
  const auto unparsed = f.service.create(by_hand, caller);
  REQUIRE_FALSE(unparsed.has_value());
  CHECK(unparsed.error().code == Errc::bad_request);
  CHECK_THAT(unparsed.error().message, Catch::Contains("U+0000"));
  const auto patched_by_hand = f.service.update(created->id, by_hand, caller);
  REQUIRE_FALSE(patched_by_hand.has_value());
  CHECK(patched_by_hand.error().code == Errc::bad_request);
  const auto nul = f.service.create(R"({"name":"a\u0000b","leadProviderCriteria":[]})", caller);
  REQUIRE_FALSE(nul.has_value());
  CHECK(nul.error().code == Errc::bad_request);
  CHECK(nul.error().details == std::vector<icp::ErrorDetail>{{"name", "must not contain U+0000"}});
}

TEST_CASE("get: ids that are not UUIDs are not_found without a store call", "[service]") {
  Fixture f(any_store());
  const auto before = f.recording->total_calls();
  const auto id = GENERATE(as<std::string_view>{}, "", "123", "550e8400e29b41d4a716446655440000",
                           "' OR '1'='1", "550e8400-e29b-41d4-a716-446655440000; DROP TABLE icps",
                           "../../etc/passwd", "{550e8400-e29b-41d4-a716-446655440000}");
  const auto result = f.service.get(id, AuthContext::admin("user_admin"));
  REQUIRE_FALSE(result.has_value());
  CHECK(result.error().code == Errc::not_found);
  CHECK(result.error().message == fmt::format("ICP not found: {}", id));
  CHECK(f.recording->total_calls() == before);
  // The table is intact after the SQL-looking ones.
  CHECK(f.service.get(kExampleId, AuthContext::admin("user_admin")).has_value());
}

TEST_CASE("get: ids compare case-insensitively", "[service]") {
  Fixture f(any_store());
  const auto icp =
      f.service.get("550E8400-E29B-41D4-A716-446655440000", AuthContext::user("user_abc123"));
  REQUIRE(icp.has_value());
  CHECK(icp->id == kExampleId);
}

TEST_CASE("get: no such ICP is not_found naming the id", "[service]") {
  Fixture f(any_store());
  const auto result =
      f.service.get("00000000-0000-4000-8000-00000000000A", AuthContext::user("user_abc123"));
  REQUIRE_FALSE(result.has_value());
  CHECK(result.error().code == Errc::not_found);
  CHECK(result.error().message == "ICP not found: 00000000-0000-4000-8000-00000000000a");
}

TEST_CASE("get: a caller neither listed nor admin is forbidden", "[service]") {
  Fixture f(any_store());
  for (const auto& caller : {AuthContext::user("user_000001"), AuthContext::user("USER_ABC123")}) {
    const auto result = f.service.get(kExampleId, caller);
    REQUIRE_FALSE(result.has_value());
    CHECK(result.error().code == Errc::forbidden);
    CHECK(result.error().message == "You do not have access to this ICP");
  }
}

TEST_CASE("get: conceal_existence turns forbidden into not_found", "[service]") {
  Fixture f(any_store(), {.conceal_existence = true});
  const auto hidden = f.service.get(kExampleId, AuthContext::user("user_000001"));
  const auto missing =
      f.service.get("00000000-0000-4000-8000-000000000000", AuthContext::user("user_000001"));
  REQUIRE_FALSE(hidden.has_value());
  CHECK(hidden.error().code == Errc::not_found);
  CHECK(hidden.error().message == fmt::format("ICP not found: {}", kExampleId));
  CHECK(missing.error().code == Errc::not_found);
  CHECK(f.service.get(kExampleId, AuthContext::user("user_abc123")).has_value());
}

TEST_CASE("get: the access check runs after the lookup, so missing beats forbidden", "[service]") {
  Fixture f(any_store());
  const auto result =
      f.service.get("00000000-0000-4000-8000-000000000000", AuthContext::user("user_000001"));
  CHECK(result.error().code == Errc::not_found);
}

TEST_CASE("get: an expired ICP is still returned", "[service]") {
  Fixture f(any_store());
  auto icp = icp::testing::spec_example();
  REQUIRE(icp.active_until < std::chrono::system_clock::now());
  CHECK(f.service.get(kExampleId, AuthContext::user("user_abc123")).has_value());
}

TEST_CASE("get: a store failure is internal and leaks nothing of the store", "[service]") {
  Fixture f(any_store());
  const auto kind = GENERATE(FaultKind::error, FaultKind::exception);
  f.faulty->inject(StoreOperation::get, kind);
  const auto result = f.service.get(kExampleId, AuthContext::user("user_abc123"));
  REQUIRE_FALSE(result.has_value());
  CHECK(result.error().code == Errc::internal);
  CHECK(icp::http_status(result.error().code) == 500);
  CHECK_THAT(result.error().message, !Catch::Contains("SELECT") && !Catch::Contains("hunter2"));
  // The fault was one call only: the next get works.
  CHECK(f.service.get(kExampleId, AuthContext::user("user_abc123")).has_value());
}

TEST_CASE("list: the caller's ICPs, or all for an admin who asks", "[service]") {
  Fixture f(any_store());
  auto other = icp::testing::spec_example();
  other.id = "00000000-0000-4000-8000-000000000001";
  other.user_ids = {"user_000001"};
  REQUIRE(f.recording->write({.icps = {&other, 1}}).has_value());

  const auto mine = f.service.list(AuthContext::user("user_abc123"));
  REQUIRE(mine.has_value());
  REQUIRE(mine->icps.size() == 1);
  CHECK(mine->icps.front().id == kExampleId);
  CHECK_FALSE(mine->next_cursor.has_value());
  // An admin's own listing holds only what they are listed in.
  CHECK(f.service.list(AuthContext::admin("user_admin"))->icps.empty());
  const auto all = f.service.list(AuthContext::admin("user_admin"), {.scope = icp::ListScope::all});
  REQUIRE(all.has_value());
  CHECK(all->icps.size() == 2);

  const auto not_admin =
      f.service.list(AuthContext::user("user_abc123"), {.scope = icp::ListScope::all});
  CHECK(not_admin.error().code == Errc::forbidden);
  CHECK(f.service.list(AuthContext::anonymous()).error().code == Errc::unauthorized);
}

TEST_CASE("list: limit and cursor are checked", "[service]") {
  Fixture f(any_store());
  const auto caller = AuthContext::user("user_abc123");
  for (const std::size_t limit : {std::size_t{0}, std::size_t{501}}) {
    const auto result = f.service.list(caller, {.limit = limit});
    REQUIRE_FALSE(result.has_value());
    CHECK(result.error().code == Errc::bad_request);
    CHECK(result.error().details ==
          std::vector<icp::ErrorDetail>{{"limit", "must be between 1 and 500"}});
  }
  CHECK(f.service.list(caller, {.limit = 500}).has_value());
  const auto cursor = GENERATE(
      as<std::string_view>{}, "x", "12.", ".550e8400-e29b-41d4-a716-446655440000",
      "abc.550e8400-e29b-41d4-a716-446655440000", "12.550E8400-E29B-41D4-A716-446655440000",
      "12.550e8400", "12 .550e8400-e29b-41d4-a716-446655440000");
  CAPTURE(cursor);
  const auto result = f.service.list(caller, {.cursor = cursor});
  REQUIRE_FALSE(result.has_value());
  CHECK(result.error().details ==
        std::vector<icp::ErrorDetail>{{"cursor", "is not a cursor from a previous page"}});
}

TEST_CASE("list: a page also stops at max_bytes, and its cursor goes on from there", "[service]") {
  Fixture f(any_store());
  const auto caller = AuthContext::user("user_abc123");
  for (int i = 0; i < 10; ++i) {
    auto icp = icp::testing::spec_example();
    icp.id = icp::new_icp_id();
    icp.name = std::string(static_cast<std::size_t>(50 * (i + 1)), 'x');
    REQUIRE(f.recording->write({.icps = {&icp, 1}}).has_value());
  }
  const auto everything = f.service.list(caller, {.limit = 100});
  REQUIRE(everything.has_value());
  REQUIRE(everything->icps.size() == 11);
  CHECK_FALSE(everything->next_cursor.has_value());

  const std::size_t max_bytes = GENERATE(as<std::size_t>{}, 0, 1, 1500, 4000, 100'000);
  CAPTURE(max_bytes);
  std::vector<std::string> walked;
  std::string cursor;
  for (int pages = 0; pages < 20; ++pages) {
    const auto page =
        f.service.list(caller, {.limit = 4, .cursor = cursor, .max_bytes = max_bytes});
    REQUIRE(page.has_value());
    REQUIRE_FALSE(page->icps.empty());
    REQUIRE(page->icps.size() <= 4);
    // Every ICP but the last fit within max_bytes.
    std::size_t before_last = 0;
    for (std::size_t i = 0; i + 1 < page->icps.size(); ++i) {
      before_last += icp::listed_bytes(page->icps[i]);
    }
    CHECK((page->icps.size() == 1 || before_last < max_bytes));
    for (const auto& icp : page->icps) walked.push_back(icp.id);
    if (!page->next_cursor) break;
    cursor = *page->next_cursor;
  }
  std::vector<std::string> expected;
  for (const auto& icp : everything->icps) expected.push_back(icp.id);
  CHECK(walked == expected);
}

TEST_CASE("list: a store failure is internal", "[service]") {
  Fixture f(any_store());
  f.faulty->inject(StoreOperation::list, FaultKind::exception);
  const auto result = f.service.list(AuthContext::user("user_abc123"));
  REQUIRE_FALSE(result.has_value());
  CHECK(result.error().code == Errc::internal);
  CHECK_THAT(result.error().message, !Catch::Contains("hunter2"));
}

// ---- create, update, delete ------------------------------------------------

namespace {

using icp::ErrorDetail;

/// A clock the test moves by hand.
struct ManualClock {
  std::shared_ptr<icp::Timestamp> now =
      std::make_shared<icp::Timestamp>(std::chrono::milliseconds{1'735'689'600'000});  // 2025
  [[nodiscard]] icp::Clock clock() const {
    return [now = now] { return *now; };
  }
  void advance(std::chrono::milliseconds by) const { *now += by; }
};

std::vector<ErrorDetail> details_of(const icp::Result<icp::Icp>& result) {
  REQUIRE_FALSE(result.has_value());
  CHECK(result.error().code == Errc::bad_request);
  return result.error().details;
}

constexpr std::string_view kMinimalBody = R"({"name":"Minimal","leadProviderCriteria":[]})";

}  // namespace

TEST_CASE("create: defaults, server-set fields and the creator in userIds", "[service]") {
  const ManualClock clock;
  Fixture f(any_store(), {.clock = clock.clock()});
  const auto created = f.service.create(kMinimalBody, AuthContext::user("user_new"));
  REQUIRE(created.has_value());
  CHECK(icp::canonical_icp_id(created->id) == created->id);
  CHECK(created->id != kExampleId);
  CHECK(created->name == "Minimal");
  CHECK_FALSE(created->description.has_value());
  CHECK(created->created_at == *clock.now);
  CHECK(created->updated_at == *clock.now);
  CHECK(created->user_ids == std::vector<std::string>{"user_new"});
  CHECK(created->leads_per_list == 10);
  CHECK_FALSE(created->active_until.has_value());
  CHECK(created->lead_provider_criteria.empty());
  CHECK(created->custom_filter_criteria.empty());
  CHECK_FALSE(created->crm_filters.has_value());
  CHECK(created->revision != 0);
  CHECK(f.service.get(created->id, AuthContext::user("user_new")).value() == *created);

  const auto second = f.service.create(kMinimalBody, AuthContext::user("user_new"));
  CHECK(second->id != created->id);
  CHECK(second->revision != created->revision);
}

TEST_CASE("create: the caller is listed once, after the others", "[service]") {
  Fixture f(any_store());
  const auto listed =
      f.service.create(R"({"name":"N","leadProviderCriteria":[],"userIds":["user_b","user_me"]})",
                       AuthContext::user("user_me"));
  CHECK(listed->user_ids == std::vector<std::string>{"user_b", "user_me"});
  const auto added = f.service.create(
      R"({"name":"N","leadProviderCriteria":[],"userIds":["user_b"]})", AuthContext::admin("root"));
  CHECK(added->user_ids == std::vector<std::string>{"user_b", "root"});
}

TEST_CASE("create: the full body round-trips", "[service]") {
  Fixture f(any_store());
  auto body = boost::json::parse(icp::testing::spec_example_json()).as_object();
  body.erase("id");
  body.erase("createdAt");
  body.erase("updatedAt");
  const auto created = f.service.create(body, AuthContext::user("user_abc123"));
  REQUIRE(created.has_value());
  auto expected = icp::testing::spec_example();
  expected.id = created->id;
  expected.created_at = created->created_at;
  expected.updated_at = created->updated_at;
  expected.revision = created->revision;
  CHECK(*created == expected);
}

TEST_CASE("create: every problem of the body is listed", "[service]") {
  Fixture f(any_store());
  const auto caller = AuthContext::user("user_new");
  CHECK(details_of(f.service.create(R"({"id":"550e8400-e29b-41d4-a716-446655440000",)"
                                    R"("createdAt":"2024-01-15T10:30:00Z","name":"",)"
                                    R"("updatedAt":"2024-01-15T10:30:00Z","colour":"red"})",
                                    caller)) ==
        std::vector<ErrorDetail>{{"id", "is set by the server"},
                                 {"createdAt", "is set by the server"},
                                 {"updatedAt", "is set by the server"},
                                 {"name", "must not be empty"},
                                 {"colour", "unknown field"},
                                 {"leadProviderCriteria", "is required"}});
  CHECK(details_of(f.service.create("{}", caller)) ==
        std::vector<ErrorDetail>{{"name", "is required"}, {"leadProviderCriteria", "is required"}});
  CHECK(details_of(f.service.create(
            R"({"name":"N","leadProviderCriteria":[{"provider":"baseProvider"}],)"
            R"("customFilterCriteria":[{"type":"minDaysUntilReuse","value":-1}],)"
            R"("leadsPerList":0,"activeUntil":"tomorrow","userIds":"user_a","crmFilters":[]})",
            caller)) ==
        std::vector<ErrorDetail>{
            {"leadProviderCriteria[0].filters", "is required"},
            {"customFilterCriteria[0].value", "expected a non-negative integer"},
            {"leadsPerList", "expected a positive integer (at most 2147483647)"},
            {"activeUntil", "expected an RFC 3339 timestamp: date must be YYYY-MM-DD"},
            {"userIds", "expected an array, got a string"},
            {"crmFilters", "expected an object, got an array"}});
  CHECK(details_of(f.service.create("[]", caller)) ==
        std::vector<ErrorDetail>{{"", "expected an ICP object"}});
  CHECK(f.service.create("{", caller).error().code == Errc::bad_request);
  CHECK(f.service.create(R"({"name":"a","name":"b"})", caller).error().details ==
        std::vector<ErrorDetail>{{"name", "duplicate key"}});
  // Nothing was written by any of them.
  CHECK(f.service.list(AuthContext::admin("root"), {.scope = icp::ListScope::all})->icps.size() ==
        1);
}

TEST_CASE("create: an anonymous caller is unauthorized, whatever the body", "[service]") {
  Fixture f(any_store());
  CHECK(f.service.create(kMinimalBody, AuthContext::anonymous()).error().code ==
        Errc::unauthorized);
  CHECK(f.service.create("not json", AuthContext::anonymous()).error().code == Errc::unauthorized);
  CHECK(f.recording->calls(StoreOperation::write) == 1);  // the fixture's own
}

TEST_CASE("update: absent fields stay, given ones change, arrays are replaced", "[service]") {
  const ManualClock clock;
  Fixture f(any_store(), {.clock = clock.clock()});
  const auto before = f.service.get(kExampleId, AuthContext::user("user_abc123")).value();
  const auto updated = f.service.update(
      kExampleId,
      R"({"name":"Renamed","userIds":["user_abc123"],"customFilterCriteria":[{"type":"x","value":1}]})",
      AuthContext::user("user_def456"));
  REQUIRE(updated.has_value());
  auto expected = before;
  expected.name = "Renamed";
  expected.user_ids = {"user_abc123"};
  expected.custom_filter_criteria = {{"x", 1}};
  expected.updated_at = *clock.now;
  expected.revision = updated->revision;
  CHECK(*updated == expected);
  CHECK(updated->revision != before.revision);
  CHECK(f.service.get(kExampleId, AuthContext::user("user_abc123")).value() == *updated);
  // user_def456 removed itself, so it has no access any more.
  CHECK(f.service.get(kExampleId, AuthContext::user("user_def456")).error().code ==
        Errc::forbidden);
}

TEST_CASE("update: null clears the nullable fields; crmFilters keeps all three states",
          "[service]") {
  Fixture f(any_store());
  const auto caller = AuthContext::user("user_abc123");
  auto result = f.service.update(kExampleId, R"({"description":null,"activeUntil":null})", caller);
  REQUIRE(result.has_value());
  CHECK_FALSE(result->description.has_value());
  CHECK_FALSE(result->active_until.has_value());
  REQUIRE(result->crm_filters.has_value());  // untouched: still null

  result = f.service.update(kExampleId, R"({"crmFilters":{"provider":"bullhorn"}})", caller);
  CHECK(icp::to_json(*result).ends_with(R"("crmFilters":{"provider":"bullhorn"}})"));
  result = f.service.update(kExampleId, R"({"name":"Still has CRM filters"})", caller);
  CHECK(icp::to_json(*result).ends_with(R"("crmFilters":{"provider":"bullhorn"}})"));
  result = f.service.update(kExampleId, R"({"crmFilters":null})", caller);
  CHECK(icp::to_json(*result).ends_with(R"("crmFilters":null})"));

  // Absent stays absent.
  const auto created = f.service.create(kMinimalBody, caller).value();
  result = f.service.update(created.id, R"({"name":"Renamed"})", caller);
  CHECK_FALSE(result->crm_filters.has_value());

  // Fields that are not nullable refuse null.
  CHECK(details_of(f.service.update(kExampleId, R"({"name":null,"userIds":null})", caller)) ==
        std::vector<ErrorDetail>{{"name", "expected a string, got null"},
                                 {"userIds", "expected an array, got null"}});
}

TEST_CASE("update: the merged result is validated, and a failed update changes nothing",
          "[service]") {
  Fixture f(any_store());
  const auto caller = AuthContext::user("user_abc123");
  const auto before = f.service.get(kExampleId, caller).value();
  CHECK(
      details_of(f.service.update(kExampleId,
                                  R"({"id":"00000000-0000-4000-8000-000000000000",)"
                                  R"("updatedAt":"2030-01-01T00:00:00Z","leadsPerList":0,)"
                                  R"("lead_provider_criteria":[]})",
                                  caller)) ==
      std::vector<ErrorDetail>{{"id", "is set by the server"},
                               {"updatedAt", "is set by the server"},
                               {"leadsPerList", "expected a positive integer (at most 2147483647)"},
                               {"lead_provider_criteria", "unknown field"}});
  CHECK(details_of(f.service.update(kExampleId, "[1]", caller)) ==
        std::vector<ErrorDetail>{{"", "expected an ICP object"}});
  CHECK(f.service.update(kExampleId, "{oops", caller).error().code == Errc::bad_request);
  CHECK(f.service.get(kExampleId, caller).value() == before);
}

TEST_CASE("update: 401, 404 and 403 come before anything about the body", "[service]") {
  Fixture f(any_store());
  for (const std::string_view body : {std::string_view("{oops"), std::string_view(R"({"name":""})"),
                                      std::string_view(R"({"name":"fine"})")}) {
    CAPTURE(body);
    CHECK(f.service.update(kExampleId, body, AuthContext::anonymous()).error().code ==
          Errc::unauthorized);
    CHECK(f.service.update("not-a-uuid", body, AuthContext::user("user_abc123")).error().code ==
          Errc::not_found);
    CHECK(
        f.service
            .update("00000000-0000-4000-8000-000000000000", body, AuthContext::user("user_abc123"))
            .error()
            .code == Errc::not_found);
    CHECK(f.service.update(kExampleId, body, AuthContext::user("user_000001")).error().code ==
          Errc::forbidden);
  }
  Fixture hidden(any_store(), {.conceal_existence = true});
  CHECK(hidden.service.update(kExampleId, "{oops", AuthContext::user("user_000001")).error().code ==
        Errc::not_found);
}

TEST_CASE("update: updatedAt moves forward, even within one millisecond or backwards in time",
          "[service]") {
  const ManualClock clock;
  Fixture f(any_store(), {.clock = clock.clock()});
  const auto caller = AuthContext::user("user_me");
  const auto created = f.service.create(kMinimalBody, caller).value();
  auto previous = created.updated_at;
  for (int i = 0; i < 3; ++i) {  // the clock stands still
    const auto updated = f.service.update(created.id, R"({"name":"again"})", caller).value();
    CHECK(updated.updated_at == previous + std::chrono::milliseconds{1});
    CHECK(updated.created_at == created.created_at);
    previous = updated.updated_at;
  }
  clock.advance(std::chrono::milliseconds{-60'000});  // and then goes back a minute
  CHECK(f.service.update(created.id, "{}", caller)->updated_at ==
        previous + std::chrono::milliseconds{1});
  clock.advance(std::chrono::milliseconds{120'000});
  CHECK(f.service.update(created.id, "{}", caller)->updated_at == *clock.now);
}

TEST_CASE("update and delete: If-Match must name the current revision", "[service]") {
  Fixture f(any_store());
  const auto caller = AuthContext::user("user_abc123");
  const auto current = f.service.get(kExampleId, caller).value();
  const auto at_current = IfMatch::one_of({current.revision});

  const auto updated = f.service.update(kExampleId, R"({"name":"v2"})", caller, at_current);
  REQUIRE(updated.has_value());
  const auto stale = f.service.update(kExampleId, R"({"name":"v3"})", caller, at_current);
  REQUIRE_FALSE(stale.has_value());
  CHECK(stale.error().code == Errc::precondition_failed);
  CHECK(icp::http_status(stale.error().code) == 412);
  CHECK(f.service.update(kExampleId, R"({"name":"v3"})", caller, IfMatch::nothing()).error().code ==
        Errc::precondition_failed);
  CHECK(f.service.get(kExampleId, caller)->name == "v2");  // nothing changed
  // A list holds when any of its revisions is the stored one.
  const auto listed = IfMatch::one_of({current.revision, updated->revision, 42});
  const auto v3 = f.service.update(kExampleId, R"({"name":"v3"})", caller, listed);
  REQUIRE(v3.has_value());
  CHECK(v3->name == "v3");
  CHECK(f.service.update(kExampleId, R"({"name":"v4"})", caller, IfMatch::any())->name == "v4");

  CHECK(f.service.remove(kExampleId, caller, at_current).error().code == Errc::precondition_failed);
  CHECK(f.service.remove(kExampleId, caller, IfMatch::nothing()).error().code ==
        Errc::precondition_failed);
  CHECK(f.service.get(kExampleId, caller).has_value());
  const auto latest = f.service.get(kExampleId, caller).value().revision;
  CHECK(f.service.remove(kExampleId, caller, IfMatch::one_of({1, latest})).has_value());
  CHECK(f.service.get(kExampleId, caller).error().code == Errc::not_found);
}

TEST_CASE("create and update: an ICP may not grow past max_icp_bytes", "[service]") {
  Fixture f(any_store(), {.max_icp_bytes = 2000});
  const auto caller = AuthContext::user("user_abc123");
  const auto body_with = [](std::size_t description_bytes) {
    return fmt::format(R"({{"name":"n","description":"{}","leadProviderCriteria":[]}})",
                       std::string(description_bytes, 'd'));
  };
  const auto too_big = f.service.create(body_with(2000), caller);
  REQUIRE_FALSE(too_big.has_value());
  CHECK(too_big.error().code == Errc::bad_request);
  CHECK_THAT(too_big.error().message, Catch::Contains("more than the 2000 allowed"));
  const auto small = f.service.create(body_with(1000), caller);
  REQUIRE(small.has_value());
  CHECK(icp::to_json(*small).size() <= 2000);

  // Growing it by PATCH stops at the same bound and changes nothing.
  const auto grown = f.service.update(
      small->id, fmt::format(R"({{"description":"{}"}})", std::string(1900, 'e')), caller);
  REQUIRE_FALSE(grown.has_value());
  CHECK(grown.error().code == Errc::bad_request);
  CHECK(f.service.get(small->id, caller)->description == small->description);
  CHECK(f.service.update(small->id, R"({"description":"short"})", caller).has_value());
}

TEST_CASE("update: a member cannot leave an ICP without members", "[service]") {
  Fixture f(any_store());
  for (const auto& caller : {AuthContext::user("user_abc123"), AuthContext::admin("root")}) {
    const auto emptied = f.service.update(kExampleId, R"({"userIds":[]})", caller);
    REQUIRE_FALSE(emptied.has_value());
    CHECK(emptied.error().code == Errc::bad_request);
    CHECK(emptied.error().details ==
          std::vector<icp::ErrorDetail>{{"userIds", "must keep at least one member"}});
  }
  CHECK(f.service.get(kExampleId, AuthContext::user("user_abc123"))->user_ids ==
        std::vector<std::string>{"user_abc123", "user_def456"});
  // Handing it over to someone else is fine.
  const auto handed =
      f.service.update(kExampleId, R"({"userIds":["user_xyz"]})", AuthContext::user("user_abc123"));
  REQUIRE(handed.has_value());
  CHECK(handed->user_ids == std::vector<std::string>{"user_xyz"});
}

TEST_CASE("update: access and If-Match are decided before the body is read", "[service]") {
  Fixture f(any_store());
  const auto stranger = AuthContext::user("user_000001");
  const std::string broken = "{\"name\": [";
  CHECK(f.service.update(kExampleId, broken, stranger).error().code == Errc::forbidden);
  CHECK(f.service.update(kMissingId, broken, stranger).error().code == Errc::not_found);
  CHECK(f.service.update(kExampleId, broken, AuthContext::anonymous()).error().code ==
        Errc::unauthorized);
  const auto member = AuthContext::user("user_abc123");
  CHECK(f.service.update(kExampleId, broken, member, IfMatch::nothing()).error().code ==
        Errc::precondition_failed);
  CHECK(f.service.update(kExampleId, broken, member).error().code == Errc::bad_request);
  CHECK(f.service.update(kExampleId, "[]", member).error().code == Errc::bad_request);
}

TEST_CASE("delete: members and admins, permanently", "[service]") {
  Fixture f(any_store());
  CHECK(f.service.remove(kExampleId, AuthContext::anonymous()).error().code == Errc::unauthorized);
  CHECK(f.service.remove("nope", AuthContext::admin("root")).error().code == Errc::not_found);
  const auto forbidden = f.service.remove(kExampleId, AuthContext::user("user_000001"));
  CHECK(forbidden.error().code == Errc::forbidden);
  CHECK(forbidden.error().message == "You do not have access to this ICP");
  CHECK(f.service.get(kExampleId, AuthContext::admin("root")).has_value());

  REQUIRE(f.service.remove("550E8400-E29B-41D4-A716-446655440000", AuthContext::user("user_def456"))
              .has_value());
  CHECK(f.service.get(kExampleId, AuthContext::admin("root")).error().code == Errc::not_found);
  const auto again = f.service.remove(kExampleId, AuthContext::admin("root"));
  CHECK(again.error().code == Errc::not_found);
  CHECK(again.error().message == fmt::format("ICP not found: {}", kExampleId));

  const auto mine = f.service.create(kMinimalBody, AuthContext::user("user_me")).value();
  CHECK(f.service.remove(mine.id, AuthContext::admin("root")).has_value());
}

TEST_CASE("list: pages neither skip nor repeat while ICPs come and go", "[service]") {
  const ManualClock clock;
  Fixture f(any_store(), {.clock = clock.clock()});
  const auto caller = AuthContext::user("user_pager");
  std::vector<std::string> created;
  for (int i = 0; i < 25; ++i) {
    if (i % 3 != 0) clock.advance(std::chrono::milliseconds{1});  // some share a createdAt
    created.push_back(f.service.create(kMinimalBody, caller)->id);
  }
  std::set<std::string> expected(created.begin(), created.end());
  std::vector<std::string> seen;
  std::optional<std::string> cursor;
  int page_number = 0;
  do {
    const auto page =
        f.service.list(caller, {.limit = 4, .cursor = cursor ? *cursor : std::string_view{}});
    REQUIRE(page.has_value());
    for (const auto& icp : page->icps) seen.push_back(icp.id);
    cursor = page->next_cursor;
    ++page_number;
    // Between pages: a newer ICP (lands before the cursor, so not listed) and
    // the deletion of one not seen yet (so not listed either).
    clock.advance(std::chrono::milliseconds{1});
    REQUIRE(f.service.create(kMinimalBody, caller).has_value());
    const auto unseen = std::find_if(created.begin(), created.end(), [&](const std::string& id) {
      return std::ranges::find(seen, id) == seen.end() && expected.contains(id);
    });
    if (page_number % 2 == 0 && unseen != created.end()) {
      REQUIRE(f.service.remove(*unseen, caller).has_value());
      expected.erase(*unseen);
    }
  } while (cursor);
  CHECK(std::set<std::string>(seen.begin(), seen.end()).size() == seen.size());  // no repeats
  CHECK(std::set<std::string>(seen.begin(), seen.end()) == expected);            // no skips
}

TEST_CASE("update: many threads with If-Match, one winner per revision, no lost update",
          "[service][concurrency]") {
  Fixture f(any_store());
  const auto caller = AuthContext::user("user_abc123");
  constexpr int kThreads = 4;
  constexpr int kIncrementsPerThread = 15;
  std::mutex mutex;
  std::vector<std::uint64_t> won_from;  // the revision each successful update replaced
  std::atomic<int> errors{0};
  {
    std::vector<std::jthread> threads;
    threads.reserve(kThreads);
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&] {
        for (int done = 0; done < kIncrementsPerThread;) {
          const auto current = f.service.get(kExampleId, caller);
          if (!current) {
            ++errors;
            return;
          }
          const auto patch = fmt::format(R"({{"leadsPerList":{}}})", current->leads_per_list + 1);
          const auto updated =
              f.service.update(kExampleId, patch, caller, IfMatch::one_of({current->revision}));
          if (updated) {
            const std::lock_guard lock(mutex);
            won_from.push_back(current->revision);
            ++done;
          } else if (updated.error().code != Errc::precondition_failed) {
            ++errors;
            return;
          }
        }
      });
    }
  }
  CHECK(errors.load() == 0);
  CHECK(won_from.size() == std::size_t{kThreads} * kIncrementsPerThread);
  CHECK(std::set<std::uint64_t>(won_from.begin(), won_from.end()).size() == won_from.size());
  CHECK(f.service.get(kExampleId, caller)->leads_per_list == 25 + kThreads * kIncrementsPerThread);
}

TEST_CASE("update: concurrent updates without If-Match all land (merged, none lost)",
          "[service][concurrency]") {
  // More attempts than the default: under a sanitizer on two busy cores each
  // attempt is ten times slower, so more of them collide. What is tested is
  // that merges lose nothing; the default budget has tests of its own.
  Fixture f(any_store(), {.write_retry = {.max_attempts = 64}});
  constexpr int kThreads = 4;
  constexpr int kPerThread = 10;
  std::mutex mutex;
  std::vector<std::string> errors;
  {
    std::vector<std::jthread> threads;
    threads.reserve(kThreads);
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < kPerThread; ++i) {
          const auto patch = fmt::format(R"({{"description":"thread {} step {}"}})", t, i);
          const auto updated = f.service.update(kExampleId, patch, AuthContext::admin("root"));
          if (!updated) {
            const std::lock_guard lock(mutex);
            errors.push_back(updated.error().message);
          }
        }
      });
    }
  }
  CHECK(errors.empty());
  for (const auto& error : errors) FAIL_CHECK(error);
  CHECK_THAT(*f.service.get(kExampleId, AuthContext::admin("root"))->description,
             Catch::EndsWith("step 9"));
}

// ---- organizations -----------------------------------------------------------

TEST_CASE("organizations: another organization's ICP is 404 to everyone, admins included",
          "[service][organizations]") {
  const bool conceal = GENERATE(false, true);
  Fixture f(any_store(), {.conceal_existence = conceal});
  CAPTURE(conceal);
  const auto member_in_b = AuthContext::user("user_b", "org_b");
  const auto created = f.service.create(kMinimalBody, member_in_b);
  REQUIRE(created.has_value());
  CHECK(created->organization == "org_b");
  CHECK(f.recording->get({.id = created->id, .organization = "org_b"}).value().has_value());

  const std::vector<AuthContext> outsiders{
      AuthContext::admin("user_root", "org_a"),
      // Listed in userIds, but calling from another organization.
      AuthContext::user("user_b", "org_a"),
      AuthContext::admin("user_b"),
      AuthContext::user("user_b"),
  };
  for (const auto& caller : outsiders) {
    CAPTURE(caller.user_id(), caller.organization(), caller.is_admin());
    CHECK(f.service.get(created->id, caller).error().code == Errc::not_found);
    CHECK(f.service.update(created->id, R"({"name":"taken"})", caller).error().code ==
          Errc::not_found);
    CHECK(
        f.service.update(created->id, R"({"name":"taken"})", caller, IfMatch::any()).error().code ==
        Errc::not_found);
    CHECK(f.service.check_update(created->id, caller, std::nullopt).error().code ==
          Errc::not_found);
    CHECK(f.service.remove(created->id, caller).error().code == Errc::not_found);
    for (const auto scope : {icp::ListScope::mine, icp::ListScope::all}) {
      const auto page = f.service.list(caller, {.scope = scope});
      if (page) {
        CHECK(std::ranges::none_of(page->icps,
                                   [&](const icp::Icp& icp) { return icp.id == created->id; }));
      }
    }
  }
  // Nothing of it changed.
  const auto kept = f.service.get(created->id, member_in_b);
  REQUIRE(kept.has_value());
  CHECK(*kept == *created);
  // Its own organization's admin and members keep the spec's rules.
  CHECK(f.service.get(created->id, AuthContext::admin("user_root", "org_b")).has_value());
  const auto stranger = f.service.get(created->id, AuthContext::user("user_x", "org_b"));
  CHECK(stranger.error().code == (conceal ? Errc::not_found : Errc::forbidden));
}

TEST_CASE("organizations: create puts the ICP in the caller's, update keeps it, list stays in it",
          "[service][organizations]") {
  Fixture f(any_store());
  const auto admin_a = AuthContext::admin("user_root", "org_a");
  const auto user_a = AuthContext::user("user_1", "org_a");
  const auto user_b = AuthContext::user("user_1", "org_b");
  const auto in_a = f.service.create(kMinimalBody, user_a);
  const auto in_b = f.service.create(kMinimalBody, user_b);
  REQUIRE((in_a && in_b));
  CHECK(in_a->organization == "org_a");
  CHECK(in_b->organization == "org_b");
  const auto updated = f.service.update(in_a->id, R"({"name":"renamed"})", admin_a);
  REQUIRE(updated.has_value());
  CHECK(updated->organization == "org_a");

  const auto ids = [](const icp::Result<icp::IcpPage>& page) {
    std::vector<std::string> listed;
    REQUIRE(page.has_value());
    for (const auto& icp : page->icps) listed.push_back(icp.id);
    return listed;
  };
  // The same user id in two organizations is two callers.
  CHECK(ids(f.service.list(user_a)) == std::vector<std::string>{in_a->id});
  CHECK(ids(f.service.list(user_b)) == std::vector<std::string>{in_b->id});
  CHECK(ids(f.service.list(admin_a, {.scope = icp::ListScope::all})) ==
        std::vector<std::string>{in_a->id});
  // With no organization: the fixture's example, as before organizations.
  CHECK(ids(f.service.list(AuthContext::admin("user_root"), {.scope = icp::ListScope::all})) ==
        std::vector<std::string>{std::string(kExampleId)});
  // Page by page, a cursor never leaves the organization.
  for (int i = 0; i < 5; ++i) REQUIRE(f.service.create(kMinimalBody, user_b).has_value());
  std::string cursor;
  std::size_t seen = 0;
  for (int pages = 0; pages < 10; ++pages) {
    const auto page = f.service.list(user_b, {.limit = 2, .cursor = cursor});
    REQUIRE(page.has_value());
    for (const auto& icp : page->icps) CHECK(icp.organization == "org_b");
    seen += page->icps.size();
    if (!page->next_cursor) break;
    cursor = *page->next_cursor;
  }
  CHECK(seen == 6);
}

TEST_CASE("organizations: a store that answers from another organization fails closed",
          "[service][organizations]") {
  // A store that ignores the organization it is asked for.
  class Leaky final : public icp::testing::ForwardingStore {
   public:
    using ForwardingStore::ForwardingStore;
    icp::Result<std::optional<icp::Icp>> get(const icp::GetIcpRequest& request) override {
      auto any = request;
      any.organization = "org_b";
      return ForwardingStore::get(any);
    }
    icp::Result<std::vector<icp::Icp>> list(const icp::ListIcpsRequest& request) override {
      auto any = request;
      any.organization = "org_b";
      return ForwardingStore::list(any);
    }
  };
  auto inner = icp::make_memory_store();
  const icp::IcpService writer(inner);
  const auto in_b = writer.create(kMinimalBody, AuthContext::user("user_1", "org_b"));
  REQUIRE(in_b.has_value());
  const icp::IcpService service(std::make_shared<Leaky>(inner));
  const auto caller = AuthContext::admin("user_1", "org_a");
  CHECK(service.get(in_b->id, caller).error().code == Errc::not_found);
  CHECK(service.list(caller, {.scope = icp::ListScope::all}).error().code == Errc::internal);
}

TEST_CASE("a store that is unavailable makes the call unavailable (503), not internal",
          "[service]") {
  Fixture f("memory");
  const auto alice = AuthContext::user("user_abc123");
  f.faulty->inject(StoreOperation::get, FaultKind::unavailable);
  const auto got = f.service.get(kExampleId, alice);
  REQUIRE_FALSE(got.has_value());
  CHECK(got.error().code == Errc::unavailable);
  CHECK(icp::http_status(got.error().code) == 503);
  f.faulty->inject(StoreOperation::write, FaultKind::unavailable);
  CHECK(f.service.update(kExampleId, R"({"leadsPerList":7})", alice).error().code ==
        Errc::unavailable);
  f.faulty->inject(StoreOperation::list, FaultKind::unavailable);
  CHECK(f.service.list(alice, {}).error().code == Errc::unavailable);
  // Nothing was retried: whether to try again is the host's decision.
  CHECK(f.service.get(kExampleId, alice)->leads_per_list != 7);
}

namespace {

/// Loses every compare-and-swap, as if another writer always came first.
class AlwaysLosing final : public icp::testing::ForwardingStore {
 public:
  using ForwardingStore::ForwardingStore;
  icp::Result<void> write(const icp::WriteIcpsRequest& request) override {
    if (request.expected_revision) return icp::Error{Errc::precondition_failed, "changed"};
    return ForwardingStore::write(request);
  }
  icp::Result<bool> erase(const icp::EraseIcpRequest& request) override {
    if (request.expected_revision) return icp::Error{Errc::precondition_failed, "changed"};
    return ForwardingStore::erase(request);
  }
};

}  // namespace

TEST_CASE("write retry: attempts and waits follow the policy, within its worst case", "[service]") {
  auto inner = icp::make_memory_store();
  const auto example = icp::testing::spec_example();
  REQUIRE(inner->write({.icps = {&example, 1}}).has_value());
  auto recording = std::make_shared<RecordingStore>(std::make_shared<AlwaysLosing>(inner));
  std::vector<std::chrono::microseconds> waits;
  const int attempts = GENERATE(1, 2, 5, 16);
  icp::RetryPolicy policy{.max_attempts = attempts,
                          .initial_backoff = std::chrono::microseconds{100},
                          .max_backoff = std::chrono::microseconds{1000},
                          .sleep = [&](std::chrono::microseconds wait) { waits.push_back(wait); }};
  const icp::IcpService service(recording, {.write_retry = policy});
  const auto alice = AuthContext::user("user_abc123");

  const bool deleting = GENERATE(false, true);
  const auto failed = deleting ? service.remove(kExampleId, alice).error()
                               : service.update(kExampleId, R"({"leadsPerList":7})", alice).error();
  CHECK(failed.code == Errc::conflict);
  const auto operation = deleting ? StoreOperation::erase : StoreOperation::write;
  CHECK(recording->calls(operation) == static_cast<std::size_t>(attempts));
  REQUIRE(waits.size() == static_cast<std::size_t>(attempts - 1));
  std::chrono::microseconds total{0};
  for (std::size_t lost = 0; lost < waits.size(); ++lost) {
    CHECK(waits[lost] >= std::chrono::microseconds{0});
    CHECK(waits[lost] <= policy.backoff_cap(static_cast<int>(lost)));
    total += waits[lost];
  }
  CHECK(total <= policy.worst_case_delay());
}

TEST_CASE("write retry: caps double up to the maximum; the default worst case is 82.75 ms",
          "[service]") {
  const icp::RetryPolicy defaults;
  CHECK(defaults.backoff_cap(0) == std::chrono::microseconds{50});
  CHECK(defaults.backoff_cap(1) == std::chrono::microseconds{100});
  CHECK(defaults.backoff_cap(7) == std::chrono::microseconds{6400});
  CHECK(defaults.backoff_cap(8) == std::chrono::microseconds{10'000});
  CHECK(defaults.backoff_cap(1000) == std::chrono::microseconds{10'000});
  CHECK(defaults.worst_case_delay() == std::chrono::microseconds{82'750});
  CHECK(icp::RetryPolicy{.max_attempts = 1}.worst_case_delay() == std::chrono::microseconds{0});
}

namespace {

/// Every replace loses its compare-and-swap, and every read after the first
/// fails with `precondition_failed` too: a store that tells a lost write
/// from a failed read only by where the error comes from.
class LosingStore final : public icp::testing::ForwardingStore {
 public:
  using ForwardingStore::ForwardingStore;

  icp::Result<std::optional<icp::Icp>> get(const icp::GetIcpRequest& request) override {
    if (++gets > 1) return icp::Error{Errc::precondition_failed, "the read was refused"};
    return ForwardingStore::get(request);
  }
  icp::Result<void> write(const icp::WriteIcpsRequest& request) override {
    if (request.mode == icp::WriteMode::replace) {
      return icp::Error{Errc::precondition_failed, "another writer came first"};
    }
    return ForwardingStore::write(request);
  }
  icp::Result<bool> erase(const icp::EraseIcpRequest& request) override {
    (void)request;
    return icp::Error{Errc::precondition_failed, "another writer came first"};
  }

  int gets = 0;
};

}  // namespace

TEST_CASE("write retry: only a lost compare-and-swap is tried again, not a failed read",
          "[service]") {
  auto store = std::make_shared<LosingStore>(icp::make_memory_store());
  const auto example = icp::testing::spec_example();
  REQUIRE(store->write({.icps = {&example, 1}}).has_value());
  icp::ServiceOptions options;
  options.write_retry.sleep = [](std::chrono::microseconds) {};
  const icp::IcpService service(store, options);
  const auto caller = AuthContext::user("user_abc123");

  SECTION("update: the write lost, so it reads again; that read's error is the answer") {
    const auto updated = service.update(kExampleId, R"({"name":"x"})", caller);
    REQUIRE_FALSE(updated.has_value());
    CHECK(updated.error().message == "the read was refused");
    CHECK(store->gets == 2);
  }
  SECTION("delete: the erase lost, so it reads again; that read's error is the answer") {
    const auto removed = service.remove(kExampleId, caller);
    REQUIRE_FALSE(removed.has_value());
    CHECK(removed.error().message == "the read was refused");
    CHECK(store->gets == 2);
  }
}
