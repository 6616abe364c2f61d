#include <icp/http.hpp>

#include "test_stores.hpp"

#include <fmt/format.h>
#include <sys/stat.h>

#include <fstream>

using icp::http::Request;
using icp::http::StaticTokenAuthenticator;

namespace {

constexpr std::string_view kTokens = R"({
  "tok_alice": {"userId": "user_abc123", "admin": false},
  "tok_bob": {"userId": "user_def456"},
  "tok_admin": {"userId": "user_admin", "admin": true}
})";

Request with_authorization(const std::vector<std::string_view>& values) {
  Request request{.method = "GET", .target = "/api/v1/entities/icps"};
  for (const auto value : values) request.headers.emplace_back("Authorization", value);
  return request;
}

}  // namespace

TEST_CASE("http auth: a known bearer token is its user", "[http]") {
  const auto auth = StaticTokenAuthenticator::from_json(kTokens).value();
  const auto alice = auth->authenticate(with_authorization({"Bearer tok_alice"}));
  REQUIRE(alice.has_value());
  CHECK(alice->user_id() == "user_abc123");
  CHECK_FALSE(alice->is_admin());
  CHECK(auth->authenticate(with_authorization({"Bearer tok_bob"}))->user_id() == "user_def456");
  CHECK(auth->authenticate(with_authorization({"Bearer tok_admin"}))->is_admin());
  // The scheme is case-insensitive; extra spaces around the token are tolerated.
  for (const auto* value : {"bearer tok_alice", "BEARER tok_alice", "Bearer   tok_alice  "}) {
    CAPTURE(value);
    CHECK(auth->authenticate(with_authorization({value}))->user_id() == "user_abc123");
  }
  // Header names are case-insensitive too.
  Request lower{.method = "GET", .target = "/", .headers = {{"authorization", "Bearer tok_bob"}}};
  CHECK(auth->authenticate(lower)->user_id() == "user_def456");
}

TEST_CASE("http auth: anything else is unauthorized with a reason, never a crash", "[http]") {
  const auto auth = StaticTokenAuthenticator::from_json(kTokens).value();
  const std::vector<std::pair<std::vector<std::string_view>, std::string_view>> cases{
      {{}, "Missing Authorization header"},
      {{"Bearer tok_alice", "Bearer tok_bob"}, "More than one Authorization header"},
      {{"tok_alice"}, "must use the Bearer scheme"},
      {{"Basic dG9rX2FsaWNlOg=="}, "must use the Bearer scheme"},
      {{"Bearertok_alice"}, "must use the Bearer scheme"},
      {{""}, "must use the Bearer scheme"},
      {{"Bearer "}, "The bearer token is empty"},
      {{"Bearer tok_alice extra"}, "must be one word"},
      {{"Bearer tok_\x01lice"}, "must be one word"},
      {{"Bearer tok_nobody"}, "not valid"},
      {{"Bearer TOK_ALICE"}, "not valid"},  // tokens are case-sensitive
      {{"Bearer tok_alic"}, "not valid"},
  };
  for (const auto& [values, reason] : cases) {
    CAPTURE(values, reason);
    const auto result = auth->authenticate(with_authorization(values));
    REQUIRE_FALSE(result.has_value());
    CHECK(result.error().code == icp::Errc::unauthorized);
    CHECK_THAT(result.error().message, Catch::Contains(std::string(reason)));
    CHECK_THAT(result.error().message, !Catch::Contains("tok_"));  // no token in messages
  }
}

TEST_CASE("http auth: malformed tokens documents are refused without echoing tokens", "[http]") {
  std::vector<std::pair<std::string_view, std::string_view>> cases{
      {"[]", "expected an object"},
      {"{", "malformed JSON"},
      {R"({"secret1": "user_a"})", "entry #1: expected an object"},
      {R"({"secret1": {}})", "entry #1: userId must be a string of 1 to 256 bytes"},
      {R"({"secret1": {"userId": ""}})", "entry #1: userId must be a string of 1 to 256 bytes"},
      {R"({"secret1": {"userId": 7}})", "entry #1: userId must be a string"},
      {R"({"secret1": {"userId": "user\ta"}})", "without control characters"},
      {R"({"a": {"userId": "u"}, "secret2": {"userId": "u", "admin": "yes"}})",
       "entry #2: admin must be a boolean"},
      {R"({"secret1": {"userId": "u", "role": "admin"}})", R"(entry #1: unknown field "role")"},
      {R"({"": {"userId": "u"}})", "entry #1: the token is empty"},
      {R"({"secret1": {"userId": "a"}, "secret1": {"userId": "b"}})", "duplicate key"},
      {"{}", "no tokens"},
      {R"({"a": {"userId": "u"}, "secret 2": {"userId": "u"}})",
       "entry #2: a token must be one word of visible ASCII"},
      {R"({"secret\t1": {"userId": "u"}})", "entry #1: a token must be one word"},
      {R"({"secret\u00e91": {"userId": "u"}})", "entry #1: a token must be one word"},
      {R"({"secret1": {"userId": "u", "org": ""}})", "entry #1: org must be 1 to 256"},
      {R"({"secret1": {"userId": "u", "org": 7}})", "entry #1: org must be"},
      {R"({"secret1": {"userId": "u", "org": "org a"}})", "entry #1: org must be"},
      {R"({"secret1": {"userId": "u", "org": "org\u0000"}})",
       "tokens: a value in the entry of a token must not contain U+0000"},
  };
  const auto long_user = fmt::format(R"({{"secret1": {{"userId": "{}"}}}})",
                                     std::string(icp::kMaxUserIdBytes + 1, 'u'));
  cases.emplace_back(long_user, "entry #1: userId must be a string of 1 to 256 bytes");
  for (const auto& [json, reason] : cases) {
    CAPTURE(json);
    const auto result = StaticTokenAuthenticator::from_json(json);
    REQUIRE_FALSE(result.has_value());
    CHECK(result.error().code == icp::Errc::bad_request);
    CHECK_THAT(result.error().message, Catch::Contains(std::string(reason)));
    CHECK_THAT(result.error().message, !Catch::Contains("secret"));
  }
}

TEST_CASE("http auth: a token may name the caller's organization", "[http][organizations]") {
  const auto auth = StaticTokenAuthenticator::from_json(R"({
    "tok_a": {"userId": "user_1", "org": "org_a"},
    "tok_b_admin": {"userId": "user_1", "admin": true, "org": "org_b"},
    "tok_none": {"userId": "user_1"}
  })")
                        .value();
  const auto in_a = auth->authenticate(with_authorization({"Bearer tok_a"}));
  REQUIRE(in_a.has_value());
  CHECK(in_a->organization() == "org_a");
  CHECK_FALSE(in_a->is_admin());
  const auto admin_b = auth->authenticate(with_authorization({"Bearer tok_b_admin"}));
  CHECK(admin_b->organization() == "org_b");
  CHECK(admin_b->is_admin());
  CHECK(auth->authenticate(with_authorization({"Bearer tok_none"}))->organization().empty());
  // At most 256 bytes.
  CHECK(StaticTokenAuthenticator::from_json(R"({"t": {"userId": "u", "org": ")" +
                                            std::string(256, 'o') + R"("}})")
            .has_value());
  CHECK_FALSE(StaticTokenAuthenticator::from_json(R"({"t": {"userId": "u", "org": ")" +
                                                  std::string(257, 'o') + R"("}})")
                  .has_value());
}

TEST_CASE("http auth: tokens load from a file", "[http]") {
  const icp::test::TempDir dir;
  const auto path = dir.path() / "tokens.json";
  std::ofstream(path) << kTokens;
  const auto auth = StaticTokenAuthenticator::from_file(path);
  REQUIRE(auth.has_value());
  CHECK((*auth)->authenticate(with_authorization({"Bearer tok_alice"})).has_value());
  CHECK(StaticTokenAuthenticator::from_file(dir.path() / "missing.json").error().code ==
        icp::Errc::not_found);
}

TEST_CASE("http auth: a tokens file is read only up to its limit", "[http]") {
  const icp::test::TempDir dir;
  const auto big = dir.path() / "big.json";
  std::ofstream(big) << R"({"tok": {"userId": "u"}})"
                     << std::string(icp::http::kMaxTokensFileBytes, ' ');
  const auto refused = StaticTokenAuthenticator::from_file(big);
  REQUIRE_FALSE(refused.has_value());
  CHECK_THAT(refused.error().message, Catch::Contains("larger than 1048576 bytes"));
  // Devices and FIFOs are refused before they are opened: /dev/zero never
  // ends, and opening a FIFO would wait for a writer for ever.
  const auto endless = StaticTokenAuthenticator::from_file("/dev/zero");
  REQUIRE_FALSE(endless.has_value());
  CHECK_THAT(endless.error().message, Catch::Contains("not a regular file"));
  const auto fifo = dir.path() / "tokens.fifo";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  const auto from_fifo = StaticTokenAuthenticator::from_file(fifo);
  REQUIRE_FALSE(from_fifo.has_value());
  CHECK_THAT(from_fifo.error().message, Catch::Contains("not a regular file"));
  const auto directory = StaticTokenAuthenticator::from_file(dir.path());
  CHECK_FALSE(directory.has_value());
}
