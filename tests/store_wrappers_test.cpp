#include <icp/service.hpp>
#include <icp/testing/store_conformance.hpp>
#include <icp/testing/store_wrappers.hpp>

#include <catch2/catch.hpp>

using icp::testing::FaultInjectingStore;
using icp::testing::FaultKind;
using icp::testing::RecordingStore;
using icp::testing::StoreOperation;

TEST_CASE("the wrappers forward to the wrapped store", "[testing]") {
  const auto inner = icp::make_memory_store();
  const auto recording = std::make_shared<RecordingStore>(inner);
  FaultInjectingStore faulty(recording);
  const auto example = icp::testing::spec_example();
  REQUIRE(faulty.write({.icps = {&example, 1}}).has_value());
  CHECK(inner->get({.id = example.id}).value() == example);
  CHECK(faulty.get({.id = example.id}).value() == example);
  CHECK(faulty.list({}).value().size() == 1);
  CHECK(faulty.erase({.id = example.id}).value());
  CHECK(recording->calls(StoreOperation::write) == 1);
  CHECK(recording->calls(StoreOperation::get) == 1);
  CHECK(recording->calls(StoreOperation::list) == 1);
  CHECK(recording->calls(StoreOperation::erase) == 1);
  CHECK(recording->total_calls() == 4);
}

TEST_CASE("RecordingStore records each request as the store received it", "[testing]") {
  const auto recording = std::make_shared<RecordingStore>(icp::make_memory_store());
  auto example = icp::testing::spec_example();
  example.organization = "org_a";
  REQUIRE(recording->write({.icps = {&example, 1}}).has_value());
  const icp::IcpService service(recording);
  const auto alice = icp::AuthContext::user("user_abc123", "org_a");
  REQUIRE(service.get(example.id, alice).has_value());
  REQUIRE(service.list(alice, {.limit = 7}).has_value());
  REQUIRE(service.remove(example.id, alice).has_value());

  const auto calls = recording->requests();
  REQUIRE(calls.size() == 5);  // write, get, list, then the delete's get and erase
  CHECK(calls[0].operation == StoreOperation::write);
  REQUIRE(calls[0].icps.size() == 1);
  CHECK(calls[0].icps[0] == example);
  CHECK(calls[1].operation == StoreOperation::get);
  CHECK(calls[1].id == example.id);
  CHECK(calls[1].organization == "org_a");
  CHECK(calls[1].member == std::optional<std::string>("user_abc123"));
  CHECK(calls[2].operation == StoreOperation::list);
  CHECK(calls[2].organization == "org_a");
  CHECK(calls[2].member == std::optional<std::string>("user_abc123"));
  CHECK(calls[2].limit == 8);  // one more than asked, to know whether more follow
  CHECK(calls[4].operation == StoreOperation::erase);
  CHECK(calls[4].expected_revision == example.revision);
}

TEST_CASE("injected faults fire as many times as asked, then stop", "[testing]") {
  const auto inner = std::make_shared<RecordingStore>(icp::make_memory_store());
  FaultInjectingStore faulty(inner);
  const auto example = icp::testing::spec_example();

  faulty.inject(StoreOperation::write, FaultKind::error, 2);
  for (int i = 0; i < 2; ++i) {
    const auto result = faulty.write({.icps = {&example, 1}});
    REQUIRE_FALSE(result.has_value());
    CHECK(result.error().code == icp::Errc::internal);
  }
  CHECK(inner->calls(StoreOperation::write) == 0);  // a failed call does nothing
  CHECK(faulty.write({.icps = {&example, 1}}).has_value());

  faulty.inject(StoreOperation::get, FaultKind::exception);
  CHECK_THROWS_WITH(faulty.get({.id = example.id}),
                    std::string(FaultInjectingStore::kExceptionText));
  CHECK(faulty.get({.id = example.id}).has_value());

  faulty.inject(StoreOperation::list, FaultKind::error, 5);
  faulty.inject(StoreOperation::erase, FaultKind::error, 5);
  faulty.clear();
  CHECK(faulty.list({}).has_value());
  CHECK(faulty.erase({.id = example.id}).value());
}
