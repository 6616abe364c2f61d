#include <icp/etag.hpp>

#include <catch2/catch.hpp>

#include <string>
#include <string_view>
#include <vector>

using icp::IfMatch;
using icp::parse_if_match;

namespace {

constexpr std::string_view kTag = R"("00000000000000ab")";
constexpr std::uint64_t kRevision = 0xab;

}  // namespace

TEST_CASE("etag_of writes the revision as 16 lower-case hex digits in quotes", "[etag]") {
  icp::Icp icp;
  icp.revision = 0xdeadbeef;
  CHECK(icp::etag_of(icp) == R"("00000000deadbeef")");
  CHECK(parse_if_match(icp::etag_of(icp)) == IfMatch::one_of({0xdeadbeef}));
  icp.revision = 0;
  CHECK(icp::etag_of(icp) == R"("0000000000000000")");
  icp.revision = 0xffffffffffffffff;
  CHECK(icp::etag_of(icp) == R"("ffffffffffffffff")");
  icp.revision = 0x0123456789abcdef;
  CHECK(icp::etag_of(icp) == R"("0123456789abcdef")");
}

TEST_CASE("If-Match: * and lists of strong tags (RFC 9110 section 13.1.1)", "[etag]") {
  CHECK(parse_if_match("*") == IfMatch::any());
  CHECK(parse_if_match(" * ") == IfMatch::any());
  CHECK(parse_if_match(kTag) == IfMatch::one_of({kRevision}));
  CHECK(parse_if_match(R"("0000000000000001", "00000000000000ab")") ==
        IfMatch::one_of({1, kRevision}));
  CHECK(parse_if_match(R"("0000000000000001","00000000000000ab")").matches(kRevision));
  // Empty list elements are allowed (RFC 9110 section 5.6.1).
  CHECK(parse_if_match(R"(, "0000000000000001" ,, "00000000000000ab",)") ==
        IfMatch::one_of({1, kRevision}));
  // Several fields are one list.
  const std::vector<std::string_view> fields{R"("0000000000000001")", kTag};
  CHECK(parse_if_match(fields) == IfMatch::one_of({1, kRevision}));
  CHECK(parse_if_match(fields).matches(kRevision));
  CHECK_FALSE(parse_if_match(fields).matches(2));
}

TEST_CASE("If-Match: tags that cannot name a revision match nothing", "[etag]") {
  // Weak tags never match under strong comparison; foreign or upper-case
  // spellings are other tags than the ones we write.
  for (const std::string_view value :
       {R"(W/"00000000000000ab")", R"("00000000000000AB")", R"("ab")", R"("")", R"("xyz")",
        R"("000000000000000ab")", R"("-0000000000000ab")", ""}) {
    INFO(value);
    const auto parsed = parse_if_match(value);
    CHECK(parsed.revisions().empty());
    CHECK_FALSE(parsed.is_any());
    CHECK_FALSE(parsed.matches(kRevision));
  }
  // A weak tag beside a strong one: the strong one still counts.
  CHECK(parse_if_match(R"(W/"00000000000000ab", "0000000000000001")") == IfMatch::one_of({1}));
}

TEST_CASE("If-Match: what is not If-Match syntax matches nothing", "[etag]") {
  for (const std::string_view value :
       {"garbage", "W/", "00000000000000ab", R"("00000000000000ab)", R"("00000000000000ab" x)",
        R"("0000000000000001" "00000000000000ab")", R"(*, "00000000000000ab")",
        R"("00000000000000ab", *)", "**", "\"a\x01b\"", R"("a"b")"}) {
    INFO(value);
    CHECK(parse_if_match(value) == IfMatch::nothing());
  }
  const std::vector<std::string_view> star_twice{"*", "*"};
  CHECK(parse_if_match(star_twice) == IfMatch::nothing());
  const std::vector<std::string_view> star_and_tag{"*", kTag};
  CHECK(parse_if_match(star_and_tag) == IfMatch::nothing());
  CHECK_FALSE(IfMatch::nothing().matches(0));
  CHECK(IfMatch::any().matches(0));
}

TEST_CASE("If-Match: a long list is read in one pass", "[etag]") {
  std::string value;
  for (int i = 0; i < 10'000; ++i) value += R"("0000000000000001", )";
  value += kTag;
  const auto parsed = parse_if_match(value);
  CHECK(parsed.revisions().size() == 10'001);
  CHECK(parsed.matches(kRevision));
}
