#include <icp/store.hpp>
#include <icp/testing/store_conformance.hpp>

#include <catch2/catch.hpp>

#include <vector>

using icp::Errc;
using icp::WriteIcpsRequest;
using icp::WriteMode;

namespace {

icp::Icp icp_with(std::string_view id, std::string_view organization = {}) {
  auto icp = icp::testing::spec_example();
  icp.id = id;
  icp.organization = organization;
  return icp;
}

}  // namespace

TEST_CASE("validate accepts every batch a store can write", "[write-rules]") {
  const std::vector<icp::Icp> none;
  CHECK(icp::validate({.icps = none}).has_value());
  const std::vector<icp::Icp> three{icp_with("a"), icp_with("b"), icp_with("c")};
  for (const auto mode : {WriteMode::insert, WriteMode::replace, WriteMode::upsert}) {
    CHECK(icp::validate({.icps = three, .mode = mode}).has_value());
  }
  // One id in two organizations is two ICPs.
  const std::vector<icp::Icp> two_orgs{icp_with("a", "org_a"), icp_with("a", "org_b"),
                                       icp_with("a")};
  CHECK(icp::validate({.icps = two_orgs, .mode = WriteMode::insert}).has_value());
  const auto one = icp_with("a");
  CHECK(icp::validate({.icps = {&one, 1}, .mode = WriteMode::replace, .expected_revision = 0})
            .has_value());
}

TEST_CASE("validate refuses an ICP twice in one batch, naming it", "[write-rules]") {
  for (const auto mode : {WriteMode::insert, WriteMode::replace, WriteMode::upsert}) {
    const std::vector<icp::Icp> batch{icp_with("a"), icp_with("b"), icp_with("a")};
    const auto result = icp::validate({.icps = batch, .mode = mode});
    REQUIRE_FALSE(result.has_value());
    CHECK(result.error().code == Errc::bad_request);
    CHECK(result.error().message == "ICP a appears twice in one write");
  }
  const std::vector<icp::Icp> same_org{icp_with("a", "org_a"), icp_with("a", "org_a")};
  CHECK(icp::validate({.icps = same_org}).error().code == Errc::bad_request);
}

TEST_CASE("validate allows an expected revision only on a replace of one ICP", "[write-rules]") {
  const auto one = icp_with("a");
  const std::vector<icp::Icp> two{icp_with("a"), icp_with("b")};
  const std::vector<icp::Icp> none;
  const WriteIcpsRequest wrong[] = {
      {.icps = two, .mode = WriteMode::replace, .expected_revision = 12},
      {.icps = none, .mode = WriteMode::replace, .expected_revision = 12},
      {.icps = {&one, 1}, .mode = WriteMode::upsert, .expected_revision = 12},
      {.icps = {&one, 1}, .mode = WriteMode::insert, .expected_revision = 0},
  };
  for (const auto& request : wrong) {
    const auto result = icp::validate(request);
    REQUIRE_FALSE(result.has_value());
    CHECK(result.error().code == Errc::bad_request);
    CHECK(result.error().message == "an expected revision needs a replace of exactly one ICP");
  }
}
