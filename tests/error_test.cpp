#include <icp/error.hpp>
#include <icp/json.hpp>

#include <boost/json/parse.hpp>
#include <catch2/catch.hpp>

TEST_CASE("each error code has its HTTP status and wire name", "[error]") {
  using icp::Errc;
  CHECK(icp::http_status(Errc::bad_request) == 400);
  CHECK(icp::http_status(Errc::unauthorized) == 401);
  CHECK(icp::http_status(Errc::forbidden) == 403);
  CHECK(icp::http_status(Errc::not_found) == 404);
  CHECK(icp::http_status(Errc::conflict) == 409);
  CHECK(icp::http_status(Errc::precondition_failed) == 412);
  CHECK(icp::http_status(Errc::unavailable) == 503);
  CHECK(icp::http_status(Errc::internal) == 500);
  CHECK(icp::code_name(Errc::bad_request) == "BAD_REQUEST");
  CHECK(icp::code_name(Errc::unauthorized) == "UNAUTHORIZED");
  CHECK(icp::code_name(Errc::forbidden) == "FORBIDDEN");
  CHECK(icp::code_name(Errc::not_found) == "NOT_FOUND");
  CHECK(icp::code_name(Errc::conflict) == "CONFLICT");
  CHECK(icp::code_name(Errc::precondition_failed) == "PRECONDITION_FAILED");
  CHECK(icp::code_name(Errc::unavailable) == "UNAVAILABLE");
  CHECK(icp::code_name(Errc::internal) == "INTERNAL_ERROR");
}

TEST_CASE("errors print with fmt", "[error]") {
  const icp::Error error{icp::Errc::bad_request, "invalid ICP", {{"name", "is required"}}};
  CHECK(fmt::format("{}", icp::Errc::not_found) == "NOT_FOUND");
  CHECK(fmt::format("{}", error) == "BAD_REQUEST: invalid ICP; name: is required");
}

TEST_CASE("value() on an error throws icp::Exception carrying the error", "[error]") {
  const icp::Result<int> failed = icp::Error{icp::Errc::forbidden, "no"};
  try {
    (void)failed.value();
    FAIL("value() did not throw");
  } catch (const icp::Exception& e) {
    CHECK(e.error().code == icp::Errc::forbidden);
    CHECK(std::string(e.what()) == "FORBIDDEN: no");
  }
  const icp::Result<int> ok = 7;
  CHECK(ok.value() == 7);
}

TEST_CASE("error bodies are valid JSON whatever bytes a message quotes (fuzz finding)", "[error]") {
  // Messages quote a client's path, id or parameter name, which may be any
  // bytes: each invalid UTF-8 sequence becomes U+FFFD.
  const std::vector<std::pair<std::string, std::string>> cases{
      {"ICP not found: \xff", "ICP not found: \xEF\xBF\xBD"},
      {"a\xc3", "a\xEF\xBF\xBD"},                                                // truncated
      {"\xc0\xaf", "\xEF\xBF\xBD\xEF\xBF\xBD"},                                  // overlong '/'
      {"\xed\xa0\x80", "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"},                  // a surrogate
      {"\xf4\x90\x80\x80", "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"},  // > U+10FFFF
      {"Zürich 😀", "Zürich 😀"},                                                  // valid: unchanged
  };
  for (const auto& [message, shown] : cases) {
    const auto body = icp::error_body(
        icp::Error{icp::Errc::not_found, message, {icp::ErrorDetail{message, message}}});
    boost::system::error_code ec;
    const auto parsed = boost::json::parse(body, ec);
    REQUIRE_FALSE(ec);
    CHECK(parsed.at("error").at("message").as_string() == shown);
    CHECK(parsed.at("error").at("details").at(0).at("path").as_string() == shown);
  }
}
