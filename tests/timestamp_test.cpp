#include <icp/timestamp.hpp>

#include <catch2/catch.hpp>

namespace {

using icp::parse_timestamp;

std::string normalised(std::string_view text) {
  auto parsed = parse_timestamp(text);
  REQUIRE(parsed.has_value());
  return icp::format_timestamp(*parsed);
}

}  // namespace

TEST_CASE("timestamps come out in the one fixed form", "[timestamp]") {
  CHECK(normalised("2024-01-15T10:30:00.000Z") == "2024-01-15T10:30:00.000Z");
  CHECK(normalised("2024-01-15T10:30:00Z") == "2024-01-15T10:30:00.000Z");
  CHECK(normalised("1970-01-01T00:00:00Z") == "1970-01-01T00:00:00.000Z");
  CHECK(normalised("1969-12-31T23:59:59.999Z") == "1969-12-31T23:59:59.999Z");
  CHECK(normalised("0000-01-01T00:00:00Z") == "0000-01-01T00:00:00.000Z");
  CHECK(normalised("9999-12-31T23:59:59.999Z") == "9999-12-31T23:59:59.999Z");
}

TEST_CASE("every field is zero-padded to its width", "[timestamp]") {
  CHECK(normalised("0001-02-03T04:05:06.007Z") == "0001-02-03T04:05:06.007Z");
  CHECK(normalised("0999-10-11T12:13:14.050Z") == "0999-10-11T12:13:14.050Z");
  CHECK(normalised("2024-11-29T19:59:09.900Z") == "2024-11-29T19:59:09.900Z");
}

TEST_CASE("years outside RFC 3339's four digits are still written", "[timestamp]") {
  using std::chrono::days;
  const icp::Timestamp ten_thousand = std::chrono::sys_days{std::chrono::year{10000} / 1 / 1};
  CHECK(icp::format_timestamp(ten_thousand + std::chrono::milliseconds{5}) ==
        "10000-01-01T00:00:00.005Z");
  const icp::Timestamp before_zero = std::chrono::sys_days{std::chrono::year{0} / 1 / 1} - days{1};
  CHECK(icp::format_timestamp(before_zero) == "-001-12-31T00:00:00.000Z");
}

TEST_CASE("any fraction length is truncated to milliseconds", "[timestamp]") {
  CHECK(normalised("2024-01-15T10:30:00.1Z") == "2024-01-15T10:30:00.100Z");
  CHECK(normalised("2024-01-15T10:30:00.12Z") == "2024-01-15T10:30:00.120Z");
  CHECK(normalised("2024-01-15T10:30:00.123456789Z") == "2024-01-15T10:30:00.123Z");
  CHECK(normalised("2024-01-15T10:30:00.9999Z") == "2024-01-15T10:30:00.999Z");
}

TEST_CASE("offsets are normalised to UTC", "[timestamp]") {
  CHECK(normalised("2024-01-15T12:30:00+02:00") == "2024-01-15T10:30:00.000Z");
  CHECK(normalised("2024-01-15T05:00:00.5-05:30") == "2024-01-15T10:30:00.500Z");
  CHECK(normalised("2024-01-01T01:00:00+02:00") == "2023-12-31T23:00:00.000Z");
  CHECK(normalised("2024-12-31T23:59:59-00:00") == "2024-12-31T23:59:59.000Z");
  CHECK(normalised("2024-01-15t10:30:00z") == "2024-01-15T10:30:00.000Z");
}

TEST_CASE("leap days exist only in leap years", "[timestamp]") {
  CHECK(normalised("2024-02-29T00:00:00Z") == "2024-02-29T00:00:00.000Z");
  CHECK(normalised("2000-02-29T00:00:00Z") == "2000-02-29T00:00:00.000Z");
  CHECK_FALSE(parse_timestamp("2023-02-29T00:00:00Z").has_value());
  CHECK_FALSE(parse_timestamp("1900-02-29T00:00:00Z").has_value());
}

TEST_CASE("impossible or incomplete timestamps are bad requests", "[timestamp]") {
  const char* bad = GENERATE(as<const char*>{},
                             "",                           // empty
                             "2024-01-15",                 // date only
                             "2024-01-15T10:30:00",        // missing offset
                             "2024-01-15 10:30:00Z",       // space separator
                             "2024-13-01T00:00:00Z",       // month 13
                             "2024-00-10T00:00:00Z",       // month 0
                             "2024-04-31T00:00:00Z",       // April 31st
                             "2024-01-00T00:00:00Z",       // day 0
                             "2024-01-15T24:00:00Z",       // hour 24
                             "2024-01-15T10:60:00Z",       // minute 60
                             "2024-01-15T10:30:60Z",       // leap second
                             "2024-01-15T10:30:00.Z",      // empty fraction
                             "2024-01-15T10:30:00+0200",   // offset without colon
                             "2024-01-15T10:30:00+24:00",  // offset hour 24
                             "2024-01-15T10:30:00+02:60",  // offset minute 60
                             "2024-01-15T10:30:00Zjunk",   // trailing text
                             "24-01-15T10:30:00Z",         // two-digit year
                             "2024-1-15T10:30:00Z",        // one-digit month
                             "+2024-01-15T10:30:00Z",      // signed year
                             "0000-01-01T00:00:00+00:01",  // before year 0 in UTC
                             "9999-12-31T23:59:59-00:01",  // after year 9999 in UTC
                             "２０２４-01-15T10:30:00Z");  // non-ASCII digits
  CAPTURE(bad);
  const auto parsed = parse_timestamp(bad);
  REQUIRE_FALSE(parsed.has_value());
  CHECK(parsed.error().code == icp::Errc::bad_request);
  CHECK_THAT(parsed.error().message, Catch::StartsWith("expected an RFC 3339 timestamp: "));
}

TEST_CASE("the reason names what is wrong", "[timestamp]") {
  CHECK(parse_timestamp("2024-01-15T10:30:00").error().message ==
        "expected an RFC 3339 timestamp: missing offset ('Z' or +HH:MM)");
  CHECK(parse_timestamp("2023-02-29T00:00:00Z").error().message ==
        "expected an RFC 3339 timestamp: no such date");
}
