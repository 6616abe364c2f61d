#include "../src/json_duplicates.hpp"

#include <icp/json.hpp>
#include <icp/testing/store_conformance.hpp>

#include <catch2/catch.hpp>

using icp::detail::find_duplicate_key;

TEST_CASE("unique keys at every depth pass", "[json]") {
  CHECK_FALSE(find_duplicate_key(icp::testing::spec_example_json()).has_value());
  CHECK_FALSE(find_duplicate_key(R"({"a":{"a":{"a":1}},"b":[{"a":1},{"a":2}]})").has_value());
  CHECK_FALSE(find_duplicate_key(R"(["a","a",{"a":"a"}])").has_value());
  // Strings that look like structure are only strings.
  CHECK_FALSE(find_duplicate_key(R"({"x":"{\"x\":1,\"x\":2}","y":"\\","z":"]}"})").has_value());
  CHECK_FALSE(find_duplicate_key("{}").has_value());
  CHECK_FALSE(find_duplicate_key("42").has_value());
}

TEST_CASE("a repeated key is found with its path", "[json]") {
  CHECK(find_duplicate_key(R"({"a":1,"a":2})") == "a");
  CHECK(find_duplicate_key(R"({ "name" : "x" , "b" : [ ] , "name" : "y" })") == "name");
  CHECK(find_duplicate_key(R"({"list":[{},{"k":1,"k":1}]})") == "list[1].k");
  CHECK(find_duplicate_key(R"([[0,{"o":{"p":1,"q":2,"p":3}}]])") == "[0][1].o.p");
  // Escapes are decoded before comparing: \u0061 is "a".
  CHECK(find_duplicate_key(R"({"a":1,"\u0061":2})") == "a");
}

TEST_CASE("parse_icp and parse_json reject duplicate keys; nothing is dropped silently", "[json]") {
  const auto icp =
      icp::parse_icp(R"({"id":"550e8400-e29b-41d4-a716-446655440000","name":"A","name":"B"})");
  REQUIRE_FALSE(icp.has_value());
  CHECK(icp.error().code == icp::Errc::bad_request);
  CHECK(icp.error().details == std::vector<icp::ErrorDetail>{{"name", "duplicate key"}});

  const auto json = icp::parse_json(R"([{"leadProviderCriteria":[{"filters":{"r":1,"r":2}}]}])");
  REQUIRE_FALSE(json.has_value());
  CHECK(json.error().message ==
        "invalid JSON: duplicate key [0].leadProviderCriteria[0].filters.r");
}
