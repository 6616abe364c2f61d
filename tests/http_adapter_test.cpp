// The adapter without any socket: requests in, responses out.
#include <icp/http.hpp>
#include <icp/testing/store_conformance.hpp>
#include <icp/testing/store_wrappers.hpp>

#include "test_stores.hpp"

#include <boost/json.hpp>

#include <mutex>
#include <set>

namespace {

using icp::http::Request;
using icp::http::Response;
namespace json = boost::json;

constexpr std::string_view kExampleId = "550e8400-e29b-41d4-a716-446655440000";
constexpr std::string_view kItem = "/api/v1/entities/icps/550e8400-e29b-41d4-a716-446655440000";
constexpr std::string_view kCollection = "/api/v1/entities/icps";

/// An adapter over a memory store holding the spec's example.
struct Api {
  explicit Api(icp::http::AdapterOptions options = {})
      : store(std::make_shared<icp::testing::FaultInjectingStore>(icp::make_memory_store())),
        adapter(
            icp::IcpService(store),
            icp::http::StaticTokenAuthenticator::from_json(
                R"({"tok_alice":{"userId":"user_abc123"},"tok_bob":{"userId":"user_def456"},)"
                R"("tok_carol":{"userId":"user_000001"},"tok_admin":{"userId":"root","admin":true}})")
                .value(),
            std::move(options)) {
    const auto example = icp::testing::spec_example();
    REQUIRE(store->write({.icps = {&example, 1}}).has_value());
  }

  Response call(std::string_view method, std::string_view target,
                std::string_view token = "tok_alice", std::string_view body = {},
                std::vector<std::pair<std::string_view, std::string_view>> headers = {}) {
    authorization = fmt::format("Bearer {}", token);
    Request request{
        .method = method, .target = target, .headers = std::move(headers), .body = body};
    if (!token.empty()) request.headers.emplace_back("Authorization", authorization);
    if (!body.empty() && request.header_values("Content-Type").empty()) {
      request.headers.emplace_back("Content-Type", "application/json");
    }
    return adapter.handle(request);
  }

  std::shared_ptr<icp::testing::FaultInjectingStore> store;
  icp::http::Adapter adapter;
  std::string authorization;
};

std::string code_of(const Response& response) {
  return std::string(json::parse(response.body).at("error").at("code").as_string());
}

void check_json(const Response& response) {
  CHECK(response.header("Content-Type") == "application/json");
}

}  // namespace

TEST_CASE("http: GET an ICP returns it with its ETag", "[http]") {
  Api api;
  const auto response = api.call("GET", kItem);
  CHECK(response.status == 200);
  check_json(response);
  CHECK(response.body == icp::to_json(icp::testing::spec_example()));
  CHECK(response.header("ETag") == icp::etag_of(icp::testing::spec_example()));
  // A percent-encoded id, upper case, and one trailing slash name the same ICP.
  CHECK(api.call("GET", "/api/v1/entities/icps/550e8400%2De29b%2D41d4%2Da716%2D446655440000")
            .status == 200);
  CHECK(api.call("GET", "/api/v1/entities/icps/550E8400-E29B-41D4-A716-446655440000").status ==
        200);
  CHECK(api.call("GET", std::string(kItem) + "/").status == 200);
  CHECK(api.call("GET", kItem, "tok_admin").status == 200);
}

TEST_CASE("http: the spec's error cases and bodies", "[http]") {
  Api api;
  const auto anonymous = api.call("GET", kItem, "");
  CHECK(anonymous.status == 401);
  CHECK(anonymous.header("WWW-Authenticate") == "Bearer");
  CHECK(code_of(anonymous) == "UNAUTHORIZED");
  check_json(anonymous);
  CHECK(api.call("GET", kItem, "tok_nobody").status == 401);

  const auto forbidden = api.call("GET", kItem, "tok_carol");
  CHECK(forbidden.status == 403);
  CHECK(forbidden.body ==
        R"({"error":{"code":"FORBIDDEN","message":"You do not have access to this ICP"}})");
  CHECK(forbidden.header("ETag").empty());

  const auto missing =
      api.call("GET", "/api/v1/entities/icps/00000000-0000-4000-8000-000000000000");
  CHECK(missing.status == 404);
  CHECK(
      missing.body ==
      R"({"error":{"code":"NOT_FOUND","message":"ICP not found: 00000000-0000-4000-8000-000000000000"}})");
  CHECK(api.call("GET", "/api/v1/entities/icps/not-a-uuid").status == 404);
  CHECK(api.call("GET", "/api/v1/entities/icps/550e8400-e29b-41d4-a716-446655440000%2Fx").status ==
        404);

  api.store->inject(icp::testing::StoreOperation::get, icp::testing::FaultKind::exception);
  const auto failed = api.call("GET", kItem);
  CHECK(failed.status == 500);
  CHECK(code_of(failed) == "INTERNAL_ERROR");
  CHECK_THAT(failed.body, !Catch::Contains("SELECT"));
}

TEST_CASE("http: unknown paths are 404 and wrong methods 405 with Allow", "[http]") {
  Api api;
  for (const auto* path :
       {"/", "/api", "/api/v1/entities", "/api/v1/entities/icpsx", "/api/v1/entities/icps/a/b",
        "/api/v2/entities/icps", "/api/v1/entities/icps//"}) {
    CAPTURE(path);
    const auto response = api.call("GET", path);
    CHECK(response.status == 404);
    CHECK(code_of(response) == "NOT_FOUND");
  }
  const auto put = api.call("PUT", kItem);
  CHECK(put.status == 405);
  CHECK(put.header("Allow") == "GET, HEAD, PATCH, DELETE");
  CHECK(code_of(put) == "METHOD_NOT_ALLOWED");
  const auto delete_all = api.call("DELETE", kCollection);
  CHECK(delete_all.status == 405);
  CHECK(delete_all.header("Allow") == "GET, HEAD, POST");
  CHECK(api.call("get", kItem).status == 405);  // methods are case-sensitive
  CHECK(api.call("GET", "no-slash").status == 400);
}

TEST_CASE("http: POST creates with 201, Location and ETag", "[http]") {
  Api api;
  const auto created =
      api.call("POST", kCollection, "tok_bob", R"({"name":"New","leadProviderCriteria":[]})");
  CHECK(created.status == 201);
  check_json(created);
  const auto body = json::parse(created.body).as_object();
  const std::string id(body.at("id").as_string());
  CHECK(created.header("Location") == fmt::format("{}/{}", kCollection, id));
  CHECK(created.header("ETag") ==
        api.call("GET", created.header("Location"), "tok_bob").header("ETag"));
  CHECK(body.at("userIds") == json::parse(R"(["user_def456"])"));

  const auto invalid = api.call("POST", kCollection, "tok_bob", R"({"id":"x","name":""})");
  CHECK(invalid.status == 400);
  CHECK(json::parse(invalid.body).at("error").at("details") ==
        json::parse(R"([{"path":"id","message":"is set by the server"},)"
                    R"({"path":"name","message":"must not be empty"},)"
                    R"({"path":"leadProviderCriteria","message":"is required"}])"));
  CHECK(api.call("POST", kCollection, "tok_bob", "{not json").status == 400);
  CHECK(api.call("POST", kCollection, "", R"({"name":"x"})").status == 401);
}

TEST_CASE("http: bodies must be JSON and not too large", "[http]") {
  Api api({.max_body_bytes = 64});
  const auto text =
      api.call("POST", kCollection, "tok_bob", R"({"name":"x"})", {{"Content-Type", "text/plain"}});
  CHECK(text.status == 415);
  CHECK(code_of(text) == "UNSUPPORTED_MEDIA_TYPE");
  const auto untyped = api.adapter.handle(Request{.method = "POST",
                                                  .target = kCollection,
                                                  .headers = {{"Authorization", "Bearer tok_bob"}},
                                                  .body = "{}"});
  CHECK(untyped.status == 415);
  CHECK(api.call("POST", kCollection, "tok_bob", R"({"name":"N","leadProviderCriteria":[]})",
                 {{"content-type", "Application/JSON; charset=utf-8"}})
            .status == 201);
  CHECK(api.call("PATCH", kItem, "tok_alice", R"({"name":"N"})",
                 {{"Content-Type", "application/merge-patch+json"}})
            .status == 200);
  CHECK(api.call("POST", kCollection, "tok_bob", R"({"name":"N"})",
                 {{"Content-Type", "application/merge-patch+json"}})
            .status == 415);
  const std::string big = R"({"name":")" + std::string(100, 'x') + R"("})";
  const auto too_big = api.call("POST", kCollection, "tok_bob", big);
  CHECK(too_big.status == 413);
  CHECK(code_of(too_big) == "PAYLOAD_TOO_LARGE");
}

TEST_CASE("http: PATCH with If-Match, and what a caller without access learns", "[http]") {
  Api api;
  const std::string etag(api.call("GET", kItem).header("ETag"));
  const auto updated =
      api.call("PATCH", kItem, "tok_alice", R"({"name":"Renamed"})", {{"If-Match", etag}});
  CHECK(updated.status == 200);
  CHECK(json::parse(updated.body).at("name") == "Renamed");
  CHECK(updated.header("ETag") != etag);
  const auto stale =
      api.call("PATCH", kItem, "tok_alice", R"({"name":"Again"})", {{"If-Match", etag}});
  CHECK(stale.status == 412);
  CHECK(code_of(stale) == "PRECONDITION_FAILED");
  // A list holds when any tag in it matches (RFC 9110 section 13.1.1), and
  // several fields are one list.
  const std::string current(updated.header("ETag"));
  const auto listed = api.call("PATCH", kItem, "tok_alice", R"({"name":"Listed"})",
                               {{"If-Match", etag + ", " + current}});
  CHECK(listed.status == 200);
  const std::string latest(listed.header("ETag"));
  const auto two = api.call("PATCH", kItem, "tok_alice", R"({"name":"Again"})",
                            {{"If-Match", etag}, {"If-Match", "W/" + latest + ", " + latest}});
  CHECK(two.status == 200);
  const auto none = api.call("PATCH", kItem, "tok_alice", R"({"name":"Never"})",
                             {{"If-Match", etag + ", W/" + std::string(two.header("ETag"))}});
  CHECK(none.status == 412);
  CHECK(api.call("PATCH", kItem, "tok_alice", "{}", {{"If-Match", "*, " + etag}}).status == 412);
  // Access first: a stranger gets 403 for a broken body, a wrong type or a stale ETag.
  CHECK(api.call("PATCH", kItem, "tok_carol", "{broken").status == 403);
  CHECK(api.call("PATCH", kItem, "tok_carol", "x", {{"Content-Type", "text/plain"}}).status == 403);
  CHECK(api.call("PATCH", kItem, "tok_carol", "{}", {{"If-Match", etag}}).status == 403);
  CHECK(api.call("PATCH", kItem, "tok_alice", R"({"leadsPerList":0})").status == 400);
}

TEST_CASE("http: DELETE is 204 with no body", "[http]") {
  Api api;
  CHECK(api.call("DELETE", kItem, "tok_carol").status == 403);
  CHECK(api.call("DELETE", kItem, "tok_alice", {}, {{"If-Match", "\"0123456789abcdef\""}}).status ==
        412);
  const auto deleted = api.call("DELETE", kItem, "tok_bob");
  CHECK(deleted.status == 204);
  CHECK(deleted.body.empty());
  CHECK(deleted.header("Content-Type").empty());
  CHECK(api.call("DELETE", kItem, "tok_bob").status == 404);
  CHECK(api.call("GET", kItem, "tok_admin").status == 404);
}

TEST_CASE("http: list pages with Link rel=next; bad queries are 400", "[http]") {
  Api api;
  for (int i = 0; i < 4; ++i) {
    REQUIRE(api.call("POST", kCollection, "tok_alice", R"({"name":"N","leadProviderCriteria":[]})")
                .status == 201);
  }
  const auto first = api.call("GET", std::string(kCollection) + "?limit=2");
  CHECK(first.status == 200);
  check_json(first);
  CHECK(json::parse(first.body).as_array().size() == 2);
  const std::string link(first.header("Link"));
  REQUIRE_THAT(link, Catch::StartsWith("</api/v1/entities/icps?limit=2&cursor=") &&
                         Catch::EndsWith(">; rel=\"next\""));
  std::vector<std::string> ids;
  std::string next = link.substr(1, link.find('>') - 1);
  // The parsed value is named: a range-for over `parse(...).as_array()`
  // would iterate an array whose value is already destroyed.
  const auto first_page = json::parse(first.body);
  for (const auto& icp : first_page.as_array()) ids.emplace_back(icp.at("id").as_string());
  while (!next.empty()) {
    const auto page = api.call("GET", next);
    REQUIRE(page.status == 200);
    const auto listed = json::parse(page.body);
    for (const auto& icp : listed.as_array()) ids.emplace_back(icp.at("id").as_string());
    const std::string more(page.header("Link"));
    next = more.empty() ? "" : more.substr(1, more.find('>') - 1);
  }
  CHECK(ids.size() == 5);
  CHECK(ids.back() == kExampleId);  // the oldest

  CHECK(api.call("GET", kCollection).body.starts_with("[{"));
  CHECK(json::parse(api.call("GET", std::string(kCollection) + "?scope=all", "tok_admin").body)
            .as_array()
            .size() == 5);
  CHECK(api.call("GET", std::string(kCollection) + "?scope=all").status == 403);
  CHECK(api.call("GET", kCollection, "tok_carol").body == "[]");
  for (const auto* query :
       {"?limit=0", "?limit=501", "?limit=ten", "?limit=", "?limit=1&limit=2", "?cursor=bogus",
        "?cursor=", "?scope=everything", "?colour=red", "?limit=-1"}) {
    CAPTURE(query);
    const auto response = api.call("GET", std::string(kCollection) + query);
    CHECK(response.status == 400);
    CHECK(code_of(response) == "BAD_REQUEST");
  }
  CHECK(api.call("GET", std::string(kItem) + "?x=1").status == 400);
}

TEST_CASE("http: HEAD answers as GET does; the transport drops the body", "[http]") {
  Api api;
  const auto get = api.call("GET", kItem);
  const auto head = api.call("HEAD", kItem);
  CHECK(head.status == 200);
  CHECK(head.headers == get.headers);
  CHECK(head.body == get.body);
  CHECK(api.call("HEAD", kCollection).status == 200);
  CHECK(api.call("HEAD", kItem, "tok_nobody").status == 401);
}

TEST_CASE("http: serves() and route() tell a host which targets are the adapter's", "[http]") {
  const Api api;
  CHECK(api.adapter.serves(kCollection));
  CHECK(api.adapter.serves(std::string(kItem) + "?x"));
  CHECK_FALSE(api.adapter.serves("/healthz"));
  CHECK_FALSE(api.adapter.serves("not a path"));
  CHECK(api.adapter.route(kCollection) == icp::http::Route::collection);
  CHECK(api.adapter.route(std::string(kCollection) + "/") == icp::http::Route::collection);
  CHECK(api.adapter.route(kItem) == icp::http::Route::item);
  CHECK(api.adapter.route("/api/v1/entities") == icp::http::Route::none);
  CHECK(api.adapter.route(std::string(kItem) + "/more") == icp::http::Route::none);
  CHECK(api.adapter.route(std::string(kItem) + "/") == icp::http::Route::item);
  CHECK(api.adapter.route(std::string(kItem) + "//") == icp::http::Route::none);
  CHECK(api.adapter.route(std::string(kCollection) + "//") == icp::http::Route::none);
  CHECK(api.adapter.route("/api/v1/entities/%69cps") == icp::http::Route::collection);
  CHECK(api.adapter.route("/api/v1/entities/icps/%41b") == icp::http::Route::item);
  CHECK(api.adapter.route("/api/v1/entities") == icp::http::Route::none);
  CHECK(api.adapter.route("/api/v1/entities/icpsx") == icp::http::Route::none);
  CHECK(api.adapter.route("/") == icp::http::Route::none);
}

TEST_CASE("http: plain targets, matched as text, route as Boost.URL routes them", "[http]") {
  // A query sends a target through Boost.URL; without one, a target of
  // unreserved characters and slashes is matched as text. Both must agree.
  Api api;
  for (const std::string_view target : {"/api/v1/entities/icps",
                                        "/api/v1/entities/icps/",
                                        "//api/v1/entities/icps",
                                        "/api/v1/entities/icps/a/b",
                                        "/api/v1/entities/icps/./",
                                        "/api/v1/entities/icps/..",
                                        "/api/v1//entities/icps",
                                        "/api/v1/entities/icps//",
                                        "/api/v1/entities/icps/a//",
                                        "/api/v1/entities/icps///",
                                        "/api/v1/entities/icpsa",
                                        "/API/v1/entities/icps",
                                        "/api/v1/entities/icps/~x_y.z-",
                                        "/api/v1/entities",
                                        "/",
                                        "/api/v1/entities/icps/a/",
                                        "/api/v1/entities/icps/a/.",
                                        "/./api/v1/entities/icps",
                                        "/./api/v1/entities/icps/x",
                                        "/.",
                                        "/./",
                                        "/.//api/v1/entities/icps",
                                        "/../api/v1/entities/icps"}) {
    INFO(target);
    CHECK(api.adapter.route(target) == api.adapter.route(std::string(target) + "?"));
  }
  CHECK(api.adapter.route("/api/v1/entities/icps/a") == icp::http::Route::item);
  // A base path that Boost.URL reads without its "/." prefix.
  Api dotted({.base_path = "/./icps"});
  CHECK(dotted.adapter.route("/icps") == dotted.adapter.route("/icps?"));
  CHECK(dotted.adapter.route("/./icps") == dotted.adapter.route("/./icps?"));
  CHECK(
      api.call("GET", "/api/v1/entities/icps/a/b").body ==
      R"({"error":{"code":"NOT_FOUND","message":"No such resource: /api/v1/entities/icps/a/b"}})");
  CHECK(
      api.call("GET", "/api/v1/entities/ic%70s/a/b").body ==
      R"({"error":{"code":"NOT_FOUND","message":"No such resource: /api/v1/entities/icps/a/b"}})");
}

TEST_CASE("http: a base path mounts the routes elsewhere; Location and Link follow it", "[http]") {
  CHECK(icp::http::is_valid_base_path("/icps"));
  CHECK(icp::http::is_valid_base_path("/v2/my%20icps"));
  for (const std::string_view bad :
       {"", "/", "icps", "/icps/", "//icps", "/a//b", "/icps?x=1", "/icps#top", "/a b"}) {
    INFO(bad);
    CHECK_FALSE(icp::http::is_valid_base_path(bad));
  }
  Api api({.max_page_bytes = 1 << 20, .base_path = "/v2/profiles"});
  CHECK(api.call("GET", kItem).status == 404);
  CHECK(api.call("GET", fmt::format("/v2/profiles/{}", kExampleId)).status == 200);
  CHECK_FALSE(api.adapter.serves(kCollection));
  CHECK(api.adapter.route("/v2/profiles") == icp::http::Route::collection);
  const auto created =
      api.call("POST", "/v2/profiles", "tok_alice", R"({"name":"n","leadProviderCriteria":[]})");
  REQUIRE(created.status == 201);
  CHECK(created.header("Location").starts_with("/v2/profiles/"));
  const auto page = api.call("GET", "/v2/profiles?limit=1");
  CHECK(page.header("Link").starts_with("</v2/profiles?limit=1&cursor="));
  // An invalid base path serves nothing rather than guessing.
  Api none({.base_path = "profiles"});
  CHECK(none.call("GET", kItem).status == 404);
  CHECK_FALSE(none.adapter.serves("/profiles"));
}

TEST_CASE("http: check_cors_origin takes what a browser sends in Origin, says what else is wrong",
          "[http][cors]") {
  using icp::http::check_cors_origin;
  for (const std::string_view origin : {"*",
                                        "https://app.example",
                                        "http://localhost:3000",
                                        "http://127.0.0.1:5173",
                                        "http://[::1]:8080",
                                        "https://xn--bcher-kva.example",
                                        "https://a.example:65535",
                                        "http://192.168.0.10:8080",
                                        "http://[2001:db8::1]",
                                        "http://[::ffff:102:304]",
                                        "http://[2001:db8::1:0:0:1]",
                                        "http://[1::]",
                                        "http://[::]",
                                        "http://[1:2:3:4:5:6:7:8]",
                                        "chrome-extension://abcdefghijklmnop",
                                        "moz-extension://0b6d3c52-2c39-4b2e-9d5a-1f8b",
                                        "capacitor://localhost",
                                        "tauri://localhost",
                                        "http://app.example.",
                                        "http://app.123x"}) {
    INFO(origin);
    CHECK(check_cors_origin(origin).has_value());
  }
  const std::pair<std::string_view, std::string_view> refused[] = {
      {"https://app.example/", "ends with a slash"},
      {"https://app.example/path", "has a path"},
      {"https://", "has no host"},
      {"https://user@app.example", "holds a user"},
      {"https://u:p@app.example", "holds a user"},
      {"https://app.example:99999", "outside 1 to 65535"},
      {"https://app.example:65536", "outside 1 to 65535"},
      {"https://app.example:0", "outside 1 to 65535"},
      {"https://app.example:08080", "leading zero"},
      {"https://app.example:", "empty port"},
      {"https://app.example:443", "default port"},
      {"http://app.example:80", "default port"},
      {"https://*.example", "wildcard"},
      {"https://App.Example", "lower-case"},
      {"HTTPS://app.example", "lower-case"},
      {"http://[::ABCD]", "lower-case"},
      {"https://app.example?x=1", "has a query"},
      {"https://app.example#top", "has a fragment"},
      {"file:///etc/passwd", "origin null"},
      {"file://host", "origin null"},
      {"mailto:a@b.example", "has no //host"},
      {"wss://app.example:443", "default port"},
      {"http://0x7f000001", "four decimal numbers"},
      {"http://a.0x1", "four decimal numbers"},
      {"http://1.2.3.4.", "four decimal numbers"},
      {"http:app.example", "has no //host"},
      {"https://app%2eexample", "not a DNS name"},
      {"app.example", "is not a URL"},
      {"null", "is not a URL"},
      {"", "is not a URL"},
      {"https://app example", "is not a URL"},
      {"http://127.1", "four decimal numbers"},
      {"http://010.0.0.1", "four decimal numbers"},
      {"http://999.1.1.1", "four decimal numbers"},
      {"http://app.123", "four decimal numbers"},
      {"http://[0:0::1]", "as browsers write it"},
      {"http://[::ffff:1.2.3.4]", "as browsers write it"},
      {"http://[2001:DB8::1]", "lower-case"},
      {"http://[2001:db8:0:0:1:0:0:1]", "as browsers write it"},
      {"http://[2001:0db8::1]", "as browsers write it"},
  };
  for (const auto& [origin, why] : refused) {
    INFO(origin);
    const auto checked = check_cors_origin(origin);
    REQUIRE_FALSE(checked.has_value());
    CHECK(checked.error().code == icp::Errc::bad_request);
    CHECK(checked.error().message.find(why) != std::string::npos);
    CHECK(checked.error().message.find("scheme://host[:port]") != std::string::npos);
  }
}

TEST_CASE("http: CORS: allowed origins get preflights and shared answers, others nothing",
          "[http][cors]") {
  Api api({.cors_origins = {"https://app.example", "https://other.example"}});
  using Headers = std::vector<std::pair<std::string_view, std::string_view>>;
  const auto has_cors = [](const Response& response) {
    return std::ranges::any_of(response.headers, [](const auto& header) {
      return header.first.starts_with("Access-Control-");
    });
  };
  const Headers preflight{{"Origin", "https://app.example"},
                          {"Access-Control-Request-Method", "PATCH"},
                          {"Access-Control-Request-Headers", "authorization, if-match"}};
  SECTION("preflight, without credentials") {
    const auto item = api.call("OPTIONS", kItem, "", {}, preflight);
    CHECK(item.status == 204);
    CHECK(item.body.empty());
    CHECK(item.header("Access-Control-Allow-Origin") == "https://app.example");
    CHECK(item.header("Access-Control-Allow-Methods") == "GET, HEAD, PATCH, DELETE");
    CHECK_THAT(std::string(item.header("Access-Control-Allow-Headers")),
               Catch::Contains("Authorization") && Catch::Contains("If-Match") &&
                   Catch::Contains("Content-Type"));
    CHECK(item.header("Vary") == "Origin");
    const auto collection = api.call("OPTIONS", kCollection, "", {}, preflight);
    CHECK(collection.status == 204);
    CHECK(collection.header("Access-Control-Allow-Methods") == "GET, HEAD, POST");
    // The transport's early answer is the same.
    const Request head{.method = "OPTIONS", .target = kItem, .headers = preflight};
    const auto early = api.adapter.precheck(head);
    REQUIRE(early.has_value());
    CHECK(early->status == 204);
  }
  SECTION("actual requests, answers and errors alike") {
    const Headers from_app{{"Origin", "https://other.example"}};
    const auto got = api.call("GET", kItem, "tok_alice", {}, from_app);
    CHECK(got.status == 200);
    CHECK(got.header("Access-Control-Allow-Origin") == "https://other.example");
    CHECK_THAT(std::string(got.header("Access-Control-Expose-Headers")),
               Catch::Contains("ETag") && Catch::Contains("Location") && Catch::Contains("Link"));
    CHECK(got.header("Vary") == "Origin");
    const auto refused = api.call("GET", kItem, "tok_nobody", {}, from_app);
    CHECK(refused.status == 401);
    CHECK(refused.header("Access-Control-Allow-Origin") == "https://other.example");
  }
  SECTION("other origins, no origin, two origins, null: no CORS header") {
    const std::vector<Headers> others{
        {{"Origin", "https://evil.example"}},
        {},
        {{"Origin", "https://app.example"}, {"Origin", "https://evil.example"}},
        {{"Origin", "null"}},
        {{"Origin", "https://app.example.evil"}},
        {{"Origin", "http://app.example"}}};
    for (const auto& headers : others) {
      CHECK_FALSE(has_cors(api.call("GET", kItem, "tok_alice", {}, headers)));
      auto asked = headers;
      asked.emplace_back("Access-Control-Request-Method", "GET");
      const auto refused = api.call("OPTIONS", kItem, "", {}, asked);
      CHECK(refused.status == 405);
      CHECK_FALSE(has_cors(refused));
    }
    // Preflights name a route: elsewhere 404.
    CHECK(api.call("OPTIONS", "/elsewhere", "", {}, preflight).status == 404);
  }
  SECTION("without cors_origins nothing changes") {
    Api plain;
    const auto answer = plain.call("OPTIONS", kItem, "", {}, preflight);
    CHECK(answer.status == 405);
    CHECK_FALSE(has_cors(answer));
    CHECK(plain.call("GET", kItem, "tok_alice", {}, preflight).header("Vary").empty());
  }
  SECTION("any origin with *") {
    Api any({.cors_origins = {"*"}});
    const auto got = any.call("GET", kItem, "tok_alice", {}, {{"Origin", "https://x.example"}});
    CHECK(got.header("Access-Control-Allow-Origin") == "https://x.example");
  }
}

TEST_CASE("http: absolute-form targets name the same resources (RFC 9112 3.2.2)", "[http]") {
  Api api;
  const auto absolute = api.call("GET", fmt::format("http://api.example:8080{}", kItem));
  CHECK(absolute.status == 200);
  CHECK(json::parse(absolute.body).at("id").as_string() == kExampleId);
  CHECK(api.call("GET", fmt::format("https://api.example{}?limit=1", kCollection)).status == 200);
  CHECK(api.adapter.serves(fmt::format("http://h{}", kItem)));
  // An empty path is "/" (RFC 9110 4.2.3), with or without a query: found, not malformed.
  for (const std::string target : {"http://h", "http://h?x=1", "http://h:80?"}) {
    INFO(target);
    const auto answer = api.call("GET", target);
    CHECK(answer.status == 404);
    CHECK(answer.body.find("No such resource: /\"") != std::string::npos);
  }
  for (const std::string& target :
       {fmt::format("ftp://h{}", kItem), fmt::format("http:{}", kItem), fmt::format("//h{}", kItem),
        fmt::format("http://h{}#frag", kItem), std::string("*"), std::string("h:80")}) {
    INFO(target);
    const auto answer = api.call("GET", target);
    CHECK((answer.status == 400 || answer.status == 404));
  }
}

TEST_CASE("http: a list page is bounded by bytes as well as count", "[http]") {
  icp::http::AdapterOptions options;
  options.max_page_bytes = 4096;
  Api api(options);
  std::vector<std::string> created;
  for (int i = 0; i < 12; ++i) {
    const auto answer = api.call(
        "POST", kCollection, "tok_alice",
        fmt::format(
            R"({{"name":"{}","leadProviderCriteria":[{{"provider":"p","filters":{{"pad":"{}"}}}}]}})",
            i, std::string(1000, 'x')));
    REQUIRE(answer.status == 201);
  }
  std::set<std::string> seen;
  std::string target = fmt::format("{}?limit=500", kCollection);
  int pages = 0;
  while (!target.empty()) {
    const auto page = api.call("GET", target);
    REQUIRE(page.status == 200);
    CHECK(page.body.size() <= options.max_page_bytes);
    const auto icps = json::parse(page.body).as_array();
    REQUIRE_FALSE(icps.empty());
    for (const auto& icp : icps) CHECK(seen.insert(std::string(icp.at("id").as_string())).second);
    ++pages;
    const auto link = page.header("Link");
    target = link.empty() ? "" : std::string(link.substr(1, link.find('>') - 1));
  }
  CHECK(seen.size() == 13);  // the example and the 12, none twice
  CHECK(pages >= 4);
  // One ICP larger than the limit still goes out, alone.
  options.max_page_bytes = 10;
  Api tiny(options);
  const auto single = tiny.call("GET", kCollection);
  CHECK(single.status == 200);
  CHECK(json::parse(single.body).as_array().size() == 1);
}

TEST_CASE("http: precheck answers what the body cannot change", "[http]") {
  Api api;
  auto head = [&](std::string_view method, std::string_view target, std::string_view token,
                  std::vector<std::pair<std::string_view, std::string_view>> headers = {}) {
    api.authorization = fmt::format("Bearer {}", token);
    Request request{.method = method, .target = target, .headers = std::move(headers)};
    if (!token.empty()) request.headers.emplace_back("Authorization", api.authorization);
    return api.adapter.precheck(request);
  };
  const std::pair<std::string_view, std::string_view> json_type{"Content-Type", "application/json"};
  CHECK(head("POST", kCollection, "", {json_type})->status == 401);
  CHECK(head("POST", kCollection, "tok_nobody", {json_type})->status == 401);
  CHECK(head("POST", kCollection, "tok_carol", {{"Content-Type", "text/plain"}})->status == 415);
  CHECK_FALSE(head("POST", kCollection, "tok_carol", {json_type}).has_value());
  CHECK(head("PUT", kItem, "tok_alice")->status == 405);
  CHECK(head("POST", "/elsewhere", "tok_alice")->status == 404);
  // PATCH: 403, 404 and 412 before a byte of the body is read.
  CHECK(head("PATCH", kItem, "tok_carol", {json_type})->status == 403);
  CHECK(head("PATCH", "/api/v1/entities/icps/00000000-0000-4000-8000-000000000000", "tok_alice",
             {json_type})
            ->status == 404);
  CHECK(head("PATCH", kItem, "tok_alice", {json_type, {"If-Match", R"("0123456789abcdef")"}})
            ->status == 412);
  CHECK(head("PATCH", kItem, "tok_alice", {{"Content-Type", "text/plain"}})->status == 415);
  CHECK_FALSE(head("PATCH", kItem, "tok_alice", {json_type}).has_value());
  CHECK_FALSE(head("PATCH", kItem, "tok_admin", {json_type, {"If-Match", "*"}}).has_value());
  // GET, HEAD and DELETE read no body: answered whole, whatever one carries.
  CHECK(head("GET", kItem, "tok_carol")->status == 403);
  const auto got = head("GET", kItem, "tok_alice");
  REQUIRE(got);
  CHECK(got->status == 200);
  CHECK(got->body == api.call("GET", kItem).body);
  CHECK(head("HEAD", kCollection, "tok_alice")->status == 200);
  CHECK(head("DELETE", kItem, "tok_carol")->status == 403);
  CHECK(head("DELETE", kItem, "tok_alice")->status == 204);
  CHECK(api.call("GET", kItem).status == 404);
}

TEST_CASE("http: a store that is unavailable is 503 UNAVAILABLE with Retry-After", "[http]") {
  Api api;
  api.store->inject(icp::testing::StoreOperation::get, icp::testing::FaultKind::unavailable);
  const auto response = api.call("GET", kItem);
  CHECK(response.status == 503);
  CHECK(code_of(response) == "UNAVAILABLE");
  CHECK(response.header("Retry-After") == "1");
  // Other errors carry no Retry-After.
  CHECK(api.call("GET", kItem, "tok_nobody").header("Retry-After").empty());
}

TEST_CASE(
    "http: 500 and 503 bodies say what happened in general; the store's reason goes to the "
    "host's log",
    "[http]") {
  std::mutex mutex;
  std::vector<icp::Error> logged;
  Api api({.on_server_error = [&](const icp::Error& error) {
    const std::lock_guard lock(mutex);
    logged.push_back(error);
  }});
  using icp::testing::FaultKind;
  using icp::testing::StoreOperation;
  struct Case {
    StoreOperation operation;
    FaultKind fault;
    std::string_view method;
    std::string_view target;
    std::string_view body;
    int status;
    std::string_view reason;
  };
  const std::string create_body =
      R"({"name":"n","userIds":["user_abc123"],"leadProviderCriteria":[]})";
  const std::vector<Case> cases{
      {StoreOperation::get, FaultKind::error, "GET", kItem, "", 500, "injected store fault"},
      {StoreOperation::get, FaultKind::unavailable, "GET", kItem, "", 503, "injected outage"},
      {StoreOperation::list, FaultKind::error, "GET", "/api/v1/entities/icps", "", 500,
       "injected store fault"},
      {StoreOperation::write, FaultKind::unavailable, "POST", "/api/v1/entities/icps", create_body,
       503, "injected outage"},
      {StoreOperation::erase, FaultKind::error, "DELETE", kItem, "", 500, "injected store fault"},
  };
  for (const auto& c : cases) {
    INFO(c.method << " " << c.target);
    api.store->inject(c.operation, c.fault);
    const auto response = api.call(c.method, c.target, "tok_alice", c.body);
    CHECK(response.status == c.status);
    CHECK_THAT(response.body, !Catch::Contains(std::string(c.reason)));
    CHECK_THAT(response.body, Catch::Contains(c.status == 500 ? "its log has the cause"
                                                              : "read before repeating it"));
    api.store->clear();
    const std::lock_guard lock(mutex);
    REQUIRE_FALSE(logged.empty());
    CHECK(logged.back().message == c.reason);
    CHECK(icp::http_status(logged.back().code) == c.status);
  }
  // Errors the client can act on keep their message and are not logged.
  const auto before = logged.size();
  CHECK_THAT(api.call("GET", kItem, "tok_carol").body, Catch::Contains("access"));
  CHECK(logged.size() == before);
}

TEST_CASE("http: error_response for a transport's own answers writes the API's body, escaped",
          "[http]") {
  const auto response = icp::http::error_response(413, "PAYLOAD_TOO_LARGE", R"(a "quoted" \ one)");
  CHECK(response.status == 413);
  CHECK(response.header("Content-Type") == "application/json");
  const auto body = json::parse(response.body);
  CHECK(body.at("error").at("code") == "PAYLOAD_TOO_LARGE");
  CHECK(body.at("error").at("message") == R"(a "quoted" \ one)");
}

namespace {

/// A host's authenticator that fails by throwing, as code outside icp may.
class ThrowingAuthenticator final : public icp::http::Authenticator {
 public:
  [[nodiscard]] icp::Result<icp::AuthContext> authenticate(
      const icp::http::Request& /*request*/) const override {
    throw std::runtime_error("the identity provider is down");
  }
};

}  // namespace

TEST_CASE("a throwing authenticator is a 500 that a browser can still read", "[http]") {
  const icp::http::Adapter adapter(icp::IcpService(icp::make_memory_store()),
                                   std::make_shared<ThrowingAuthenticator>(),
                                   {.cors_origins = {"https://app.example"}});
  const Request request{
      .method = "GET",
      .target = kItem,
      .headers = {{"Origin", "https://app.example"}, {"Authorization", "Bearer x"}}};
  for (const auto& response : {adapter.handle(request), *adapter.precheck(request)}) {
    CHECK(response.status == 500);
    CHECK(response.body.find("identity provider") == std::string::npos);
    CHECK(response.header("Access-Control-Allow-Origin") == "https://app.example");
    CHECK(response.header("Vary") == "Origin");
  }
}
