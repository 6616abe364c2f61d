#include <icp/clerk.hpp>

#include "jwt_support.hpp"
#include "test_stores.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

namespace {

using icp::clerk::ClerkAuthenticator;
using icp::clerk::ClerkOptions;
using icp::test::base64url;
using icp::test::jwt;

constexpr std::int64_t kNow = 1'800'000'000;  // the injected clock, Unix seconds
constexpr std::string_view kHeader = R"({"alg":"RS256","typ":"JWT","kid":"ins_1"})";

const icp::test::Key& signing_key() {
  static const auto key = icp::test::rsa_key(2048);
  return key;
}

ClerkOptions options_for(const icp::test::Key& key) {
  return ClerkOptions{.public_key_pem = icp::test::public_pem(key), .clock = [] {
                        return std::chrono::system_clock::time_point(std::chrono::seconds(kNow));
                      }};
}

std::shared_ptr<ClerkAuthenticator> verifier(ClerkOptions options = options_for(signing_key())) {
  auto created = ClerkAuthenticator::create(std::move(options));
  INFO((created ? "" : created.error().message));
  REQUIRE(created.has_value());
  return *created;
}

/// A Clerk-shaped session token's claims around `sub`, valid at kNow.
std::string claims(std::string_view extra = "", std::string_view sub = "user_2abc") {
  return fmt::format(
      R"({{"azp":"https://app.example","exp":{},"iat":{},"iss":"https://clerk.app.example","nbf":{},"sid":"sess_1","sub":"{}","v":2{}}})",
      kNow + 60, kNow - 10, kNow - 10, sub, extra);
}

std::string token(std::string_view payload = claims()) {
  return jwt(signing_key(), kHeader, payload);
}

/// Fails unless `token` is refused with `reason`, and the message shows no
/// part of the token.
void refused(const ClerkAuthenticator& clerk, const std::string& token, std::string_view reason) {
  const auto result = clerk.verify(token);
  INFO(token);
  REQUIRE_FALSE(result.has_value());
  CHECK(result.error().code == icp::Errc::unauthorized);
  CHECK_THAT(result.error().message, Catch::StartsWith(std::string(reason) + ": "));
  for (std::size_t start = 0; start + 12 <= token.size(); start += 12) {
    CHECK(result.error().message.find(token.substr(start, 12)) == std::string::npos);
  }
}

/// What `clerk` makes of a request with these header fields.
icp::Result<icp::AuthContext> authenticate(
    const ClerkAuthenticator& clerk,
    const std::vector<std::pair<std::string, std::string>>& fields) {
  icp::http::Request request{.method = "GET", .target = "/", .headers = {}, .body = ""};
  for (const auto& [name, value] : fields) request.headers.emplace_back(name, value);
  return clerk.authenticate(request);
}

}  // namespace

TEST_CASE("clerk: a valid token gives the user, and the admin flag by the claim", "[clerk]") {
  const auto clerk = verifier();
  const auto user = clerk->verify(token());
  REQUIRE(user.has_value());
  CHECK(user->user_id() == "user_2abc");
  CHECK_FALSE(user->is_admin());

  const auto admin = clerk->verify(token(claims(R"(,"metadata":{"role":"admin"})")));
  REQUIRE(admin.has_value());
  CHECK(admin->is_admin());
  CHECK_FALSE(clerk->verify(token(claims(R"(,"metadata":{"role":"member"})")))->is_admin());
  CHECK_FALSE(clerk->verify(token(claims(R"(,"metadata":"admin")")))->is_admin());
  CHECK(clerk->verify(token(claims(R"(,"metadata":{"role":["billing","admin"]})")))->is_admin());

  auto by_org = options_for(signing_key());
  by_org.admin = icp::clerk::AdminClaim::organization_role();
  const auto org_clerk = verifier(by_org);
  CHECK(org_clerk->verify(token(claims(R"(,"o":{"id":"org_1","rol":"admin"})")))->is_admin());
  CHECK_FALSE(org_clerk->verify(token(claims(R"(,"metadata":{"role":"admin"})")))->is_admin());
  // Session tokens v1 name the role with its prefix.
  CHECK(
      org_clerk->verify(token(claims(R"(,"org_id":"org_1","org_role":"org:admin")")))->is_admin());
  CHECK_FALSE(
      org_clerk->verify(token(claims(R"(,"org_id":"org_1","org_role":"admin")")))->is_admin());
  CHECK_FALSE(
      org_clerk->verify(token(claims(R"(,"o":{"id":"org_1","rol":"org:admin"})")))->is_admin());
  CHECK_FALSE(
      org_clerk->verify(token(claims(R"(,"o":{"id":"org_1","rol":"member"})")))->is_admin());
  // The role may be given either way.
  const auto with_prefix = icp::clerk::AdminClaim::organization_role("org:admin");
  CHECK(with_prefix.value == "admin");
  CHECK(with_prefix.alternatives ==
        std::vector<std::pair<std::string, std::string>>{{"org_role", "org:admin"}});
}

TEST_CASE("clerk: an organization role without its organization makes no admin",
          "[clerk][organizations]") {
  // Signed, so the role is the issuer's word, but it is a role *in* an
  // organization: with none named it would administer the personal space.
  auto by_org = options_for(signing_key());
  by_org.admin = icp::clerk::AdminClaim::organization_role();
  const auto org_clerk = verifier(by_org);
  for (const auto* extra : {R"(,"o":{"rol":"admin"})", R"(,"org_role":"org:admin")",
                            R"(,"o":{"rol":"admin"},"org_role":"org:admin")"}) {
    CAPTURE(extra);
    const auto caller = org_clerk->verify(token(claims(extra)));
    REQUIRE(caller.has_value());
    CHECK(caller->organization().empty());
    CHECK_FALSE(caller->is_admin());
  }
  // Given as PATH=VALUE, the same.
  auto by_path = options_for(signing_key());
  by_path.admin = icp::clerk::AdminClaim::parse("o.rol=admin").value();
  CHECK_FALSE(verifier(by_path)->verify(token(claims(R"(,"o":{"rol":"admin"})")))->is_admin());
  CHECK(
      verifier(by_path)->verify(token(claims(R"(,"o":{"id":"org_1","rol":"admin"})")))->is_admin());
  // A user-level claim (public metadata) still makes the personal space's admin.
  CHECK(verifier()->verify(token(claims(R"(,"metadata":{"role":"admin"})")))->is_admin());
}

TEST_CASE("clerk: the active organization is o.id (v2) or org_id (v1)", "[clerk][organizations]") {
  const auto clerk = verifier();
  CHECK(clerk->verify(token(claims(R"(,"o":{"id":"org_2v2","rol":"admin"})")))->organization() ==
        "org_2v2");
  CHECK(clerk->verify(token(claims(R"(,"org_id":"org_2v1")")))->organization() == "org_2v1");
  CHECK(clerk->verify(token(claims(R"(,"o":{"id":"org_x"},"org_id":"org_x")")))->organization() ==
        "org_x");
  // A personal session has none.
  CHECK(clerk->verify(token())->organization().empty());
  CHECK(clerk->verify(token(claims(R"(,"o":{"rol":"admin"})")))->organization().empty());
  // Wrong shapes are refused, never read as "no organization".
  for (const std::string_view extra :
       {R"(,"o":"org_1")", R"(,"o":{"id":1})", R"(,"o":{"id":""})", R"(,"org_id":null)",
        R"(,"org_id":"org 1")", R"(,"o":{"id":"org_a"},"org_id":"org_b")"}) {
    refused(*clerk, token(claims(extra)), "token-invalid");
  }
  refused(*clerk, token(claims(R"(,"org_id":")" + std::string(257, 'o') + R"(")")),
          "token-invalid");
}

TEST_CASE("clerk: RS384 and RS512 are accepted, each checked with its own hash", "[clerk]") {
  const auto clerk = verifier();
  for (const std::string_view alg : {"RS384", "RS512"}) {
    const auto header = fmt::format(R"({{"alg":"{}","typ":"JWT"}})", alg);
    CHECK(clerk->verify(jwt(signing_key(), header, claims(), alg)).has_value());
    // Signed with SHA-256 but labelled otherwise: the signature does not hold.
    refused(*clerk, jwt(signing_key(), header, claims(), "RS256"), "token-invalid-signature");
  }
  CHECK(clerk->verify(jwt(signing_key(), R"({"alg":"RS256"})", claims())).has_value());  // no typ
}

TEST_CASE("clerk: time claims, with the clock skew", "[clerk]") {
  const auto clerk = verifier();
  auto at = [](std::int64_t exp, std::int64_t nbf, std::int64_t iat) {
    return token(fmt::format(R"({{"exp":{},"nbf":{},"iat":{},"sub":"user_2abc"}})", exp, nbf, iat));
  };
  CHECK(clerk->verify(at(kNow - 4, kNow - 60, kNow - 60)).has_value());  // within 5 s of skew
  refused(*clerk, at(kNow - 5, kNow - 60, kNow - 60), "token-expired");
  refused(*clerk, at(kNow - 3600, kNow - 7200, kNow - 7200), "token-expired");
  CHECK(clerk->verify(at(kNow + 60, kNow + 5, kNow)).has_value());
  refused(*clerk, at(kNow + 600, kNow + 6, kNow), "token-not-active-yet");
  CHECK(clerk->verify(at(kNow + 60, kNow, kNow + 5)).has_value());
  refused(*clerk, at(kNow + 600, kNow, kNow + 6), "token-iat-in-the-future");
  // nbf and iat are optional; exp is not.
  CHECK(clerk->verify(token(R"({"exp":1800000060,"sub":"user_2abc"})")).has_value());
  refused(*clerk, token(R"({"sub":"user_2abc"})"), "token-invalid");
  refused(*clerk, token(R"({"exp":"1800000060","sub":"user_2abc"})"), "token-invalid");
  CHECK(clerk->verify(token(R"({"exp":1800000060.5,"sub":"user_2abc"})")).has_value());

  auto strict = options_for(signing_key());
  strict.clock_skew = std::chrono::seconds(0);
  refused(*verifier(strict), at(kNow - 1, kNow - 60, kNow - 60), "token-expired");
}

TEST_CASE("clerk: signatures that do not hold are refused", "[clerk]") {
  const auto clerk = verifier();
  SECTION("another key") {
    static const auto other = icp::test::rsa_key(2048);
    refused(*clerk, jwt(other, kHeader, claims()), "token-invalid-signature");
  }
  SECTION("a payload changed after signing") {
    const auto good = token();
    const auto first_dot = good.find('.');
    const auto second_dot = good.find('.', first_dot + 1);
    const auto forged = good.substr(0, first_dot + 1) +
                        base64url(claims(R"(,"metadata":{"role":"admin"})")) +
                        good.substr(second_dot);
    refused(*clerk, forged, "token-invalid-signature");
  }
  SECTION("a flipped signature bit") {
    auto bad = token();
    bad[bad.size() - 10] = bad[bad.size() - 10] == 'A' ? 'B' : 'A';
    refused(*clerk, bad, "token-invalid-signature");
  }
  SECTION("an RSA key of 1024 bits signed it") {
    static const auto small = icp::test::rsa_key(1024);
    refused(*clerk, jwt(small, kHeader, claims()), "token-invalid-signature");
  }
}

TEST_CASE("clerk: only RS256, RS384 and RS512, checked before anything else", "[clerk]") {
  const auto clerk = verifier();
  const auto payload = base64url(claims());
  SECTION("alg none, with and without a signature") {
    const auto unsigned_token = base64url(R"({"alg":"none","typ":"JWT"})") + "." + payload + ".";
    refused(*clerk, unsigned_token, "token-invalid-algorithm");
    refused(*clerk, unsigned_token + "c2ln", "token-invalid-algorithm");
    refused(*clerk, base64url(R"({"alg":"None"})") + "." + payload + ".",
            "token-invalid-algorithm");
  }
  SECTION("HS256 with the public key as the secret (algorithm confusion)") {
    const auto pem = icp::test::public_pem(signing_key());
    const auto signing_input = base64url(R"({"alg":"HS256","typ":"JWT"})") + "." + payload;
    refused(*clerk, signing_input + "." + base64url(icp::test::hmac_sha256(pem, signing_input)),
            "token-invalid-algorithm");
  }
  SECTION("PS256, ES256, no alg, alg not a string") {
    refused(*clerk, jwt(signing_key(), R"({"alg":"PS256"})", claims(), "PS256"),
            "token-invalid-algorithm");
    refused(*clerk, base64url(R"({"alg":"ES256"})") + "." + payload + ".c2ln",
            "token-invalid-algorithm");
    refused(*clerk, jwt(signing_key(), R"({"typ":"JWT"})", claims()), "token-invalid-algorithm");
    refused(*clerk, jwt(signing_key(), R"({"alg":["RS256"]})", claims()),
            "token-invalid-algorithm");
    refused(*clerk, jwt(signing_key(), R"({"alg":"rs256"})", claims()), "token-invalid-algorithm");
    // A registered name is repeated; the sender's own text never is.
    CHECK_THAT(clerk->verify(jwt(signing_key(), R"({"alg":"HS512"})", claims())).error().message,
               Catch::Contains("alg HS512 is not accepted"));
    const auto long_alg = std::string(200, 'Q');
    const auto odd =
        clerk->verify(jwt(signing_key(), fmt::format(R"({{"alg":"{}"}})", long_alg), claims()));
    CHECK_THAT(odd.error().message, Catch::StartsWith("token-invalid-algorithm: an unknown alg") &&
                                        !Catch::Contains("QQQQ"));
  }
  SECTION("typ other than JWT, critical extensions") {
    refused(*clerk, jwt(signing_key(), R"({"alg":"RS256","typ":"at+jwt"})", claims()),
            "token-invalid");
    refused(*clerk, jwt(signing_key(), R"({"alg":"RS256","crit":["exp"]})", claims()),
            "token-invalid");
  }
}

TEST_CASE("clerk: claims the token must carry, and allow-lists", "[clerk]") {
  SECTION("sub") {
    const auto clerk = verifier();
    refused(*clerk, token(R"({"exp":1800000060})"), "token-missing-subject");
    refused(*clerk, token(claims("", "")), "token-missing-subject");
    refused(*clerk, token(R"({"exp":1800000060,"sub":42})"), "token-missing-subject");
    // A user id every store can key on: at most 256 bytes, no control characters.
    const std::string longest(icp::kMaxUserIdBytes, 'u');
    const auto signed_in = clerk->verify(token(claims("", longest)));
    REQUIRE(signed_in.has_value());
    CHECK(signed_in->user_id() == longest);
    refused(*clerk, token(claims("", longest + "u")), "token-invalid");
    refused(*clerk, token(claims("", R"(user\ta)")), "token-invalid");
    refused(*clerk, token(claims("", R"(user\u0000a)")), "token-invalid");
  }
  SECTION("azp") {
    auto options = options_for(signing_key());
    options.authorized_parties = {"https://app.example", "http://localhost:3000"};
    const auto clerk = verifier(options);
    CHECK(clerk->verify(token()).has_value());
    refused(*clerk, token(R"({"azp":"https://evil.example","exp":1800000060,"sub":"user_2abc"})"),
            "token-invalid-authorized-parties");
    refused(*clerk, token(R"({"exp":1800000060,"sub":"user_2abc"})"),
            "token-invalid-authorized-parties");
    CHECK(verifier()
              ->verify(token(R"({"azp":"https://evil.example","exp":1800000060,"sub":"u"})"))
              .has_value());  // no allow-list: any
  }
  SECTION("iss") {
    auto options = options_for(signing_key());
    options.issuers = {"https://clerk.app.example"};
    const auto clerk = verifier(options);
    CHECK(clerk->verify(token()).has_value());
    refused(*clerk, token(R"({"iss":"https://clerk.other.example","exp":1800000060,"sub":"u"})"),
            "token-invalid-issuer");
  }
  SECTION("pending sessions") {
    const auto pending = token(claims(R"(,"sts":"pending")"));
    CHECK(verifier()->verify(pending).has_value());
    auto options = options_for(signing_key());
    options.reject_pending_sessions = true;
    const auto clerk = verifier(options);
    refused(*clerk, pending, "token-session-pending");
    CHECK(clerk->verify(token(claims(R"(,"sts":"active")"))).has_value());
  }
}

TEST_CASE("clerk: malformed tokens are refused as invalid, never crash", "[clerk]") {
  const auto clerk = verifier();
  const auto good = token();
  const auto first_dot = good.find('.');
  const auto second_dot = good.find('.', first_dot + 1);
  SECTION("malformed base64url") {
    refused(*clerk, "e30+." + good.substr(first_dot + 1), "token-invalid");  // '+'
    refused(*clerk, good.substr(0, first_dot) + "=" + good.substr(first_dot), "token-invalid");
    refused(*clerk, good + "=", "token-invalid");                            // padding
    refused(*clerk, good.substr(0, second_dot + 1) + "A", "token-invalid");  // 1 char left
    refused(*clerk, "e31." + good.substr(first_dot + 1), "token-invalid");   // 'e31' non-canonical
    refused(*clerk, good.substr(0, first_dot) + ".e30 ." + good.substr(second_dot + 1),
            "token-invalid");
  }
  SECTION("truncated") {
    for (std::size_t cut = 1; cut <= 4; ++cut) {
      const auto result = clerk->verify(good.substr(0, good.size() - cut));
      REQUIRE_FALSE(result.has_value());
      CHECK_THAT(result.error().message, Catch::StartsWith("token-invalid: the signature") ||
                                             Catch::StartsWith("token-invalid-signature: "));
    }
    refused(*clerk, good.substr(0, second_dot), "token-invalid");
    refused(*clerk, good.substr(0, first_dot), "token-invalid");
    refused(*clerk, "", "token-invalid");
    refused(*clerk, "..", "token-invalid");
    refused(*clerk, good + ".x", "token-invalid");
  }
  SECTION("over 8 KiB, or a header part over 1 KiB: refused before anything is decoded") {
    const auto padding = std::string(icp::clerk::kMaxTokenBytes, 'a');
    const auto big = token(claims(fmt::format(R"(,"pad":"{}")", padding)));
    CHECK(big.size() > icp::clerk::kMaxTokenBytes);
    refused(*clerk, big, "token-too-large");
    // Signed and valid but for its header's size: 200 keys, under the token bound.
    std::string header = R"({"alg":"RS256","typ":"JWT")";
    for (int i = 0; i < 200; ++i) header += fmt::format(R"(,"k{}":0)", i);
    header += '}';
    const auto wide = jwt(signing_key(), header, claims());
    const auto dot = wide.find('.');
    CHECK(dot > icp::clerk::kMaxTokenHeaderBytes);
    refused(*clerk, wide.substr(0, dot) + ".e30.AA", "token-invalid");
    CHECK_THAT(clerk->verify(wide.substr(0, dot) + ".e30.AA").error().message,
               Catch::Contains("the header part has"));
    // At the bound, a header is read as usual.
    std::string padded = R"({"alg":"RS256","typ":"JWT","x":")";
    while ((padded.size() + 2) * 4 / 3 < icp::clerk::kMaxTokenHeaderBytes - 4) padded += 'x';
    padded += "\"}";
    CHECK(clerk->verify(jwt(signing_key(), padded, claims())).has_value());
  }
  SECTION("JSON that is not an object, or has duplicate keys that disagree") {
    refused(*clerk, jwt(signing_key(), R"(["RS256"])", claims()), "token-invalid");
    refused(*clerk, jwt(signing_key(), kHeader, R"(["user_2abc"])"), "token-invalid");
    refused(*clerk,
            jwt(signing_key(), kHeader, R"({"exp":1800000060,"sub":"user_a","sub":"user_b"})"),
            "token-invalid");
    refused(*clerk, jwt(signing_key(), R"({"alg":"RS256","alg":"none"})", claims()),
            "token-invalid");
    refused(*clerk, jwt(signing_key(), kHeader, R"({"exp":1800000060,"sub":"user_a")"),
            "token-invalid");
  }
}

TEST_CASE("clerk: keys of the wrong kind or size are refused when configured", "[clerk]") {
  auto create = [](std::string pem) {
    return ClerkAuthenticator::create(ClerkOptions{.public_key_pem = std::move(pem)});
  };
  CHECK_THAT(create("").error().message, Catch::Contains("no Clerk public key"));
  CHECK_THAT(create("not a key").error().message, Catch::Contains("BEGIN PUBLIC KEY"));
  CHECK_THAT(create("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n").error().message,
             Catch::Contains("not a readable PEM public key"));
  CHECK_THAT(create(icp::test::public_pem(icp::test::ec_key())).error().message,
             Catch::Contains("is a EC key") && Catch::Contains("RSA"));
  CHECK_THAT(create(icp::test::public_pem(icp::test::rsa_key(1024))).error().message,
             Catch::Contains("1024 bits") && Catch::Contains("2048 to 16384"));
  CHECK(create(icp::test::public_pem(icp::test::rsa_key(1024))).error().code ==
        icp::Errc::bad_request);

  // As an environment variable carries it: one line with escaped line breaks.
  auto escaped = icp::test::public_pem(signing_key());
  for (auto at = escaped.find('\n'); at != std::string::npos; at = escaped.find('\n', at + 2)) {
    escaped.replace(at, 1, "\\n");
  }
  auto options = options_for(signing_key());
  options.public_key_pem = "  " + escaped;
  CHECK(verifier(options)->verify(token()).has_value());
}

TEST_CASE("clerk: the key comes from a file or an environment variable", "[clerk]") {
  const auto pem = icp::test::public_pem(signing_key());
  ::setenv("ICP_TEST_CLERK_KEY", pem.c_str(), 1);
  CHECK(icp::clerk::key_from_environment("ICP_TEST_CLERK_KEY").value() == pem);
  ::unsetenv("ICP_TEST_CLERK_KEY");
  CHECK_THAT(icp::clerk::key_from_environment("ICP_TEST_CLERK_KEY").error().message,
             Catch::Contains("ICP_TEST_CLERK_KEY is not set"));
  CHECK_THAT(icp::clerk::read_key_file("/nonexistent/clerk.pem").error().message,
             Catch::Contains("/nonexistent/clerk.pem"));
}

TEST_CASE("clerk: a key file is a regular file of at most 64 KiB, never read whole otherwise",
          "[clerk]") {
  const icp::test::TempDir dir;
  const auto pem = icp::test::public_pem(signing_key());
  const auto good = dir.path() / "clerk.pem";
  std::ofstream(good) << pem;
  const auto read = icp::clerk::read_key_file(good);
  REQUIRE(read.has_value());
  CHECK(*read == pem);

  // A device that never ends, a FIFO nobody writes to (opening it would
  // block), a directory: refused before any read.
  const auto fifo = dir.path() / "fifo";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  for (const auto& path : {std::filesystem::path("/dev/zero"), fifo, dir.path()}) {
    INFO(path);
    const auto refused = icp::clerk::read_key_file(path);
    REQUIRE_FALSE(refused.has_value());
    CHECK(refused.error().code == icp::Errc::bad_request);
    CHECK_THAT(refused.error().message, Catch::Contains("not a regular file"));
  }
  // One byte past the bound.
  const auto large = dir.path() / "large.pem";
  std::ofstream(large) << std::string(icp::clerk::kMaxKeyFileBytes + 1, 'A');
  const auto too_large = icp::clerk::read_key_file(large);
  REQUIRE_FALSE(too_large.has_value());
  CHECK_THAT(too_large.error().message, Catch::Contains("larger than 65536 bytes"));
  std::ofstream(large) << std::string(icp::clerk::kMaxKeyFileBytes, 'A');
  CHECK(icp::clerk::read_key_file(large).has_value());
}

TEST_CASE("clerk: admin claims parse as PATH=VALUE", "[clerk]") {
  const auto parsed = icp::clerk::AdminClaim::parse("o.rol=org:admin");
  REQUIRE(parsed.has_value());
  CHECK(parsed->path == "o.rol");
  CHECK(parsed->value == "org:admin");
  for (const auto* bad :
       {"", "metadata.role", "=admin", "metadata.role=", ".a=b", "a..b=c", "a.=b"}) {
    INFO(bad);
    CHECK(icp::clerk::AdminClaim::parse(bad).error().code == icp::Errc::bad_request);
  }
}

TEST_CASE("clerk: the token comes from the Authorization header, or the __session cookie",
          "[clerk]") {
  const auto good = token();
  const auto clerk = verifier();
  CHECK(authenticate(*clerk, {{"Authorization", "Bearer " + good}}).has_value());
  CHECK(authenticate(*clerk, {{"authorization", "bearer " + good}}).has_value());
  CHECK(authenticate(*clerk, {{"Authorization", good}}).error().code == icp::Errc::unauthorized);
  CHECK(authenticate(*clerk, {{"Authorization", "Basic " + good}}).error().code ==
        icp::Errc::unauthorized);
  // Cookies count only when enabled.
  const std::vector<std::pair<std::string, std::string>> cookie{
      {"Cookie", "theme=dark; __session=" + good + "; x=1"}};
  CHECK_FALSE(authenticate(*clerk, cookie).has_value());

  auto options = options_for(signing_key());
  options.accept_session_cookie = true;
  const auto with_cookies = verifier(options);
  CHECK(authenticate(*with_cookies, cookie).has_value());
  CHECK(authenticate(*with_cookies, {{"Cookie", "__session=\"" + good + "\""}}).has_value());
  CHECK_THAT(authenticate(*with_cookies, {{"Cookie", "my__session=" + good}}).error().message,
             Catch::StartsWith("token-missing"));
  // A present Authorization header wins, even when it is bad.
  CHECK_FALSE(authenticate(*with_cookies,
                           {{"Authorization", "Bearer x.y.z"}, {"Cookie", "__session=" + good}})
                  .has_value());
}

TEST_CASE("clerk: many threads verify at once", "[clerk][concurrency]") {
  const auto clerk = verifier();
  const auto good = token();
  const auto bad = jwt(icp::test::rsa_key(2048), kHeader, claims());
  std::atomic<int> wrong{0};
  {
    std::vector<std::jthread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&] {
        for (int i = 0; i < 200; ++i) {
          if (!clerk->verify(good).has_value()) ++wrong;
          if (clerk->verify(bad).has_value()) ++wrong;
        }
      });
    }
  }
  CHECK(wrong == 0);
}
