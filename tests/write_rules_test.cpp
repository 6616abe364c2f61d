#include <icp/auth.hpp>
#include <icp/store.hpp>
#include <icp/testing/store_conformance.hpp>

#include "util/utf8.hpp"

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include <string>
#include <vector>

using icp::Errc;
using icp::WriteIcpsRequest;
using icp::WriteMode;

namespace {

icp::Icp icp_with(std::string id, std::string organization = {}) {
  // By value: assigning views here tripped GCC 12's -Wstringop-overflow at -O2
  // (a false positive in the inlined memcpy).
  auto icp = icp::testing::spec_example();
  icp.id = std::move(id);
  icp.organization = std::move(organization);
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

TEST_CASE("validate refuses what some store cannot keep: U+0000, bad user ids and organizations",
          "[write-rules]") {
  using namespace std::string_literals;
  const auto refused = [](const icp::Icp& icp, std::string_view why) {
    const auto result = icp::validate({.icps = {&icp, 1}});
    REQUIRE_FALSE(result.has_value());
    CHECK(result.error().code == Errc::bad_request);
    CHECK_THAT(result.error().message, Catch::Contains(std::string(why)));
  };
  constexpr std::string_view kNul = "holds U+0000";
  auto icp = icp_with("a");
  icp.name = "A\0B"s;
  refused(icp, kNul);
  icp = icp_with("a");
  icp.description = "\0"s;
  refused(icp, kNul);
  icp = icp_with("a\0"s);
  refused(icp, kNul);
  CHECK(icp::validate({.icps = {&icp, 1}}).error().message.starts_with("an ICP cannot be stored"));
  icp = icp_with("a");
  icp.lead_provider_criteria.at(0).provider = "p\0"s;
  refused(icp, kNul);
  icp = icp_with("a");
  icp.custom_filter_criteria.push_back({.type = "t\0"s, .value = 1});
  refused(icp, kNul);
  // Inside opaque JSON, at any depth, in keys and in values.
  icp = icp_with("a");
  icp.lead_provider_criteria.at(0).filters =
      boost::json::object{{"deep", boost::json::array{boost::json::object{{"k", "v\0"s}}}}};
  refused(icp, kNul);
  icp = icp_with("a");
  icp.crm_filters = icp::OpaqueJson(boost::json::object{{"k\0"s, 1}});
  refused(icp, kNul);

  icp = icp_with("a");
  icp.user_ids = {std::string(icp::kMaxUserIdBytes + 1, 'u')};
  refused(icp, "a user id is not 1 to 256 bytes");
  icp.user_ids = {"user\0a"s};
  refused(icp, "a user id");
  icp.user_ids = {"user\na"};
  refused(icp, "a user id");
  icp.user_ids = {""};
  refused(icp, "a user id");
  icp.user_ids = {std::string(icp::kMaxUserIdBytes, 'u'), "\xc3\xa9t\xc3\xa9"};
  CHECK(icp::validate({.icps = {&icp, 1}}).has_value());

  icp = icp_with("a", "org with spaces");
  refused(icp, "its organization");
  icp = icp_with("a", std::string(icp::kMaxOrganizationBytes + 1, 'o'));
  refused(icp, "its organization");
  icp = icp_with("a", std::string(icp::kMaxOrganizationBytes, 'o'));
  CHECK(icp::validate({.icps = {&icp, 1}}).has_value());
}

TEST_CASE("validate's walk of opaque JSON is iterative: deep nesting is no crash",
          "[write-rules]") {
  boost::json::value deep = boost::json::array{};
  for (int i = 0; i < 10'000; ++i) deep = boost::json::array{std::move(deep)};
  auto icp = icp_with("a");
  icp.crm_filters = icp::OpaqueJson(boost::json::object{{"deep", std::move(deep)}});
  CHECK(icp::validate({.icps = {&icp, 1}}).has_value());
}

TEST_CASE("validate refuses text that is not UTF-8, which PostgreSQL cannot store",
          "[write-rules]") {
  using namespace std::string_literals;
  // Stray continuation, truncated, overlong, a surrogate, past U+10FFFF, a bad lead byte.
  for (const auto& bad : {"\x80"s, "\xc3"s, "\xe2\x82"s, "\xc0\x80"s, "\xe0\x80\xaf"s,
                          "\xed\xa0\x80"s, "\xf4\x90\x80\x80"s, "\xff"s, "a\xfe"s}) {
    CAPTURE(bad);
    CHECK_FALSE(icp::detail::is_utf8(bad));
    CHECK_FALSE(icp::is_valid_user_id("user" + bad));
    auto icp = icp_with("a");
    icp.name = "name" + bad;
    CHECK(icp::validate({.icps = {&icp, 1}}).error().code == Errc::bad_request);
    icp = icp_with("a");
    icp.user_ids = {"user" + bad};
    CHECK(icp::validate({.icps = {&icp, 1}}).error().code == Errc::bad_request);
  }
  // The edges of each length are UTF-8.
  for (const auto& good : {""s, "\x7f"s, "\xc2\x80"s, "\xdf\xbf"s, "\xe0\xa0\x80"s, "\xef\xbf\xbf"s,
                           "\xf0\x90\x80\x80"s, "\xf4\x8f\xbf\xbf"s, "\xed\x9f\xbf"s}) {
    CAPTURE(good);
    CHECK(icp::detail::is_utf8(good));
  }
  static_assert(icp::detail::is_utf8("user_2abc") && !icp::detail::is_utf8("user\xff"));
  CHECK(icp::is_valid_user_id("user_2abc"));
  CHECK_FALSE(icp::is_valid_user_id("user\xff"));
}
