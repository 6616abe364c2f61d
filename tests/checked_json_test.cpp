#include "json/checked_json.hpp"

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

namespace {

/// `{"k0":0,"k1":1,...}` with `count` keys, and `extra` appended inside.
std::string object_with_keys(std::size_t count, std::string_view extra = "") {
  std::string text = "{";
  for (std::size_t i = 0; i < count; ++i) {
    if (i > 0) text.push_back(',');
    text += R"("k)" + std::to_string(i) + R"(":)" + std::to_string(i);
  }
  text += extra;
  text.push_back('}');
  return text;
}

}  // namespace

TEST_CASE("objects past the linear-search size are checked through their hash index", "[json]") {
  CHECK(icp::parse_json(object_with_keys(20'000)).has_value());
  CHECK_FALSE(find_duplicate_key(object_with_keys(20'000)).has_value());
  CHECK(find_duplicate_key(object_with_keys(20'000, R"(,"k19999":1)")) == "k19999");
  CHECK(find_duplicate_key(object_with_keys(17, R"(,"k3":1)")) == "k3");
  CHECK(find_duplicate_key(object_with_keys(16, R"(,"k15":1)")) == "k15");
  // The nested object's keys are its own, also when its parent is indexed.
  CHECK_FALSE(find_duplicate_key(object_with_keys(40, R"(,"x":{"k1":1,"k2":2})")).has_value());
  CHECK(find_duplicate_key(object_with_keys(40, R"(,"x":{"k1":1,"k1":2})")) == "x.k1");
  const auto parsed = icp::parse_json(object_with_keys(40, R"(,"k39":1)"));
  REQUIRE_FALSE(parsed.has_value());
  CHECK(parsed.error().message == "invalid JSON: duplicate key k39");
}

TEST_CASE("every way a duplicate can hide from the member counts is still found", "[json]") {
  // The dropped value held objects; the kept one holds none (and the reverse).
  for (const std::string_view text : {R"({"a":{"x":1},"a":5})", R"({"a":5,"a":{"x":1}})",
                                      R"({"a":[{"x":{}}],"b":{"c":1},"a":{"y":[]}})",
                                      R"([{"p":{"q":{}},"p":{"q":{}}}])", R"({"":1,"":1})"}) {
    INFO(text);
    const auto parsed = icp::parse_json(text);
    REQUIRE_FALSE(parsed.has_value());
    CHECK(parsed.error().details.front().message == "duplicate key");
  }
}

TEST_CASE("numbers beyond a double are refused with their path", "[json]") {
  const auto parsed = icp::parse_json(R"({"a":[1,{"b":-1e400}]})");
  REQUIRE_FALSE(parsed.has_value());
  CHECK(parsed.error().message == "invalid JSON: number out of range at a[1].b");
  // The first problem in document order is the one reported.
  const auto both = icp::parse_json(R"({"n":1e999,"d":1,"d":2})");
  REQUIRE_FALSE(both.has_value());
  CHECK(both.error().details.front().message == "number out of range");
  CHECK(find_duplicate_key(R"({"n":1e999,"d":1,"d":2})") == "d");
}

TEST_CASE("malformed JSON is reported with its line and column", "[json]") {
  const auto parsed = icp::parse_json("{\"a\":1,\n  \"b\" 2}");
  REQUIRE_FALSE(parsed.has_value());
  CHECK_THAT(parsed.error().message, Catch::StartsWith("malformed JSON at line 2, column 7"));
  CHECK_FALSE(icp::parse_json("{} x").has_value());
  CHECK_FALSE(icp::parse_json("").has_value());
  CHECK(icp::parse_json(" {} \n").has_value());
}

TEST_CASE("a string or key holding U+0000 is refused with its path, whatever the store", "[json]") {
  const auto in_string = icp::parse_json(R"({"a":[{"b":"x\u0000y"}]})");
  REQUIRE_FALSE(in_string.has_value());
  CHECK(in_string.error().code == icp::Errc::bad_request);
  CHECK(in_string.error().message == "invalid JSON: a string holds U+0000 at a[0].b");
  CHECK(in_string.error().details ==
        std::vector<icp::ErrorDetail>{{"a[0].b", "must not contain U+0000"}});
  const auto in_key = icp::parse_json(R"({"a":{"k\u0000":1}})");
  REQUIRE_FALSE(in_key.has_value());
  CHECK(in_key.error().message == "invalid JSON: a string holds U+0000 at a.k");
  const auto icp = icp::parse_icp(R"({"name":"\u0000"})");
  REQUIRE_FALSE(icp.has_value());
  CHECK(icp.error().details == std::vector<icp::ErrorDetail>{{"name", "must not contain U+0000"}});
  // Every other escape is data; so are the characters around U+0000.
  CHECK(icp::parse_json(R"({"a":"\u0001\u001f\u007f\uffff\ud83d\ude00"})").has_value());
  // A duplicate key is still reported as one by find_duplicate_key.
  CHECK(find_duplicate_key(R"({"a":"\u0000","a":1})") == "a");
}

TEST_CASE("KeySets reused after a large document still tells repeats from new keys", "[json]") {
  icp::detail::KeySets keys;
  keys.open_object();
  for (int i = 0; i < 200; ++i) REQUIRE(keys.insert("key" + std::to_string(i)));
  keys.open_object();  // a child's keys are its own
  CHECK(keys.insert("key0"));
  CHECK_FALSE(keys.insert("key0"));
  keys.close_object();
  CHECK_FALSE(keys.insert("key199"));
  keys.clear();
  keys.open_object();
  CHECK(keys.insert("key199"));
  CHECK(keys.insert("other"));
  CHECK_FALSE(keys.insert("other"));
  CHECK_FALSE(keys.insert("key199"));
  keys.close_object();
}
