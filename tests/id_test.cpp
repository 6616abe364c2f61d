#include <icp/id.hpp>

#include <catch2/catch.hpp>

#include <set>

TEST_CASE("ids of the 8-4-4-4-12 hex shape are canonicalised to lower case", "[id]") {
  CHECK(icp::canonical_icp_id("550e8400-e29b-41d4-a716-446655440000") ==
        "550e8400-e29b-41d4-a716-446655440000");
  CHECK(icp::canonical_icp_id("550E8400-E29B-41D4-A716-446655440000") ==
        "550e8400-e29b-41d4-a716-446655440000");
  CHECK(icp::canonical_icp_id("00000000-0000-0000-0000-000000000000") ==
        "00000000-0000-0000-0000-000000000000");
  // Any version and variant nibble.
  CHECK(icp::canonical_icp_id("ffffffff-ffff-ffff-ffff-ffffffffffff").has_value());
  CHECK(icp::canonical_icp_id("01890a5d-ac96-7ab2-80e2-4536629c90de").has_value());
}

TEST_CASE("anything else is not an id", "[id]") {
  const char* bad = GENERATE(as<const char*>{}, "", "550e8400",
                             "550e8400e29b41d4a716446655440000",        // undashed
                             "{550e8400-e29b-41d4-a716-446655440000}",  // braced
                             "550e8400-e29b-41d4-a716-44665544000",     // short
                             "550e8400-e29b-41d4-a716-4466554400000",   // long
                             "550e8400-e29b-41d4-a716-44665544000g",    // not hex
                             "550e8400-e29b-41d4a-716-446655440000",    // dash moved
                             " 550e8400-e29b-41d4-a716-44665544000",    // leading space
                             "550e8400-e29b-41d4-a716-446655440000\n",  // trailing newline
                             "' OR 1=1 --aaaaaaaaaaaaaaaaaaaaaaaaaa",   // SQL, 36 chars
                             "urn:uuid:550e8400-e29b-41d4-a716-4466");
  CAPTURE(bad);
  CHECK_FALSE(icp::canonical_icp_id(bad).has_value());
}

TEST_CASE("new ids are canonical, version 4 and distinct", "[id]") {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    const auto id = icp::new_icp_id();
    CHECK(icp::canonical_icp_id(id) == id);
    CHECK(id[14] == '4');
    seen.insert(id);
  }
  CHECK(seen.size() == 1000);
}
