#include <icp/service.hpp>
#include <icp/testing/store_conformance.hpp>
#include <icp/testing/store_wrappers.hpp>

#include "test_stores.hpp"

namespace {

using icp::AuthContext;
using icp::Errc;
using icp::testing::FaultInjectingStore;
using icp::testing::FaultKind;
using icp::testing::RecordingStore;
using icp::testing::StoreOperation;

constexpr std::string_view kExampleId = "550e8400-e29b-41d4-a716-446655440000";

/// A service over a store of the given kind, holding the spec's example.
struct Fixture {
  explicit Fixture(std::string_view kind, icp::ServiceOptions options = {})
      : recording(std::make_shared<RecordingStore>(icp::test::make_store(kind, dir))),
        faulty(std::make_shared<FaultInjectingStore>(recording)),
        service(faulty, options) {
    const auto example = icp::testing::spec_example();
    REQUIRE(recording->write({.icps = {&example, 1}}).has_value());
  }

  icp::test::TempDir dir;
  std::shared_ptr<RecordingStore> recording;
  std::shared_ptr<FaultInjectingStore> faulty;
  icp::IcpService service;
};

std::string_view any_store() {
  return GENERATE(from_range(std::begin(icp::test::kStoreKinds), std::end(icp::test::kStoreKinds)));
}

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

TEST_CASE("list: a store failure is internal", "[service]") {
  Fixture f(any_store());
  f.faulty->inject(StoreOperation::list, FaultKind::exception);
  const auto result = f.service.list(AuthContext::user("user_abc123"));
  REQUIRE_FALSE(result.has_value());
  CHECK(result.error().code == Errc::internal);
  CHECK_THAT(result.error().message, !Catch::Contains("hunter2"));
}
