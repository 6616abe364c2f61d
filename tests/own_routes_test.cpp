// icp-server's own routes (/healthz, /readyz, /metrics) and the answers to
// a request that could not be read: pure functions, tested without a socket.
#include "icp-server/own_routes.hpp"

#include "icp-server/framing.hpp"

#include <boost/asio/error.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/error.hpp>
#include <catch2/catch.hpp>

using icp::server::RouteLabel;

TEST_CASE("own routes: exact paths, origin or absolute form, never with a query", "[server]") {
  using icp::server::own_route;
  CHECK(own_route("/healthz") == RouteLabel::healthz);
  CHECK(own_route("/readyz") == RouteLabel::readyz);
  CHECK(own_route("/metrics") == RouteLabel::metrics);
  CHECK(own_route("http://localhost:8080/healthz") == RouteLabel::healthz);
  CHECK(own_route("/healthz#x") == RouteLabel::healthz);
  CHECK(own_route("/healthz?verbose=1") == RouteLabel::other);
  CHECK(own_route("/healthz/") == RouteLabel::other);
  CHECK(own_route("/HEALTHZ") == RouteLabel::other);
  CHECK(own_route("/api/v1/entities/icps") == RouteLabel::other);
  CHECK(own_route("") == RouteLabel::other);
  CHECK(own_route("*") == RouteLabel::other);
  CHECK(icp::server::is_own(RouteLabel::metrics));
  CHECK_FALSE(icp::server::is_own(RouteLabel::item));
}

TEST_CASE("path_of drops the query and fragment, which may hold secrets", "[server]") {
  using icp::server::path_of;
  CHECK(path_of("/api/v1/entities/icps?cursor=secret") == "/api/v1/entities/icps");
  CHECK(path_of("/a#b") == "/a");
  CHECK(path_of("http://host") == "/");
  CHECK(path_of("http://host/x?y") == "/x");
  CHECK(path_of("not a target") == "-");
}

TEST_CASE("own routes: answers and their headers", "[server]") {
  const auto refused = icp::server::own_method_not_allowed();
  CHECK(refused.status == 405);
  CHECK(refused.header("Allow") == "GET, HEAD");
  CHECK(refused.body.find("METHOD_NOT_ALLOWED") != std::string::npos);

  CHECK(icp::server::liveness().status == 200);
  CHECK(icp::server::liveness().body == R"({"status":"ok"})");

  const auto page = icp::server::metrics_page("up 1\n", "text/plain");
  CHECK(page.status == 200);
  CHECK(page.header("Content-Type") == "text/plain");
  CHECK(page.body == "up 1\n");
}

TEST_CASE("readyz: 200 when the store answers; else 503 that names no reason", "[server]") {
  using icp::server::not_ready_reason;
  using icp::server::readiness;
  const std::optional<icp::Result<void>> ready{icp::Result<void>{}};
  CHECK(readiness(ready).status == 200);
  CHECK_FALSE(not_ready_reason(ready));

  const std::optional<icp::Result<void>> failed{
      icp::Error{icp::Errc::unavailable, "connection to 10.0.0.5:5432 refused"}};
  const auto answer = readiness(failed);
  CHECK(answer.status == 503);
  CHECK(answer.header("Retry-After") == "1");
  CHECK(answer.body.find("10.0.0.5") == std::string::npos);
  CHECK(not_ready_reason(failed).value().find("10.0.0.5") != std::string::npos);

  CHECK(readiness(std::nullopt).status == 503);
  CHECK(not_ready_reason(std::nullopt).value().find("queued full") != std::string::npos);
}

TEST_CASE("read errors: 413, 431, 400; nothing for a client that is gone", "[server]") {
  namespace bhttp = boost::beast::http;
  using icp::server::read_error_response;
  const auto too_large = read_error_response(bhttp::error::body_limit, 1024);
  REQUIRE(too_large);
  CHECK(too_large->status == 413);
  CHECK(too_large->body.find("1024 bytes") != std::string::npos);
  CHECK(read_error_response(bhttp::error::header_limit, 1024)->status == 431);
  CHECK(read_error_response(bhttp::error::buffer_overflow, 1024)->status == 431);
  CHECK(read_error_response(bhttp::error::bad_method, 1024)->status == 400);
  CHECK_FALSE(read_error_response(bhttp::error::end_of_stream, 1024));
  CHECK_FALSE(read_error_response(boost::asio::error::connection_reset, 1024));
  CHECK_FALSE(read_error_response(boost::asio::error::eof, 1024));
  CHECK_FALSE(read_error_response(boost::beast::error::timeout, 1024));
  CHECK(icp::server::request_timeout_response().status == 408);
}

namespace {

/// A request header of `version` with `fields` (each field line on its own).
boost::beast::http::request_header<> header_of(
    unsigned version, std::initializer_list<std::pair<std::string_view, std::string_view>> fields) {
  boost::beast::http::request_header<> header;
  header.version(version);
  for (const auto& [name, value] : fields) header.insert(name, value);
  return header;
}

}  // namespace

TEST_CASE("framing: persistence reads every Connection field; close wins (RFC 9112 9.3, 9.6)",
          "[server]") {
  using icp::server::wants_keep_alive;
  CHECK(wants_keep_alive(header_of(11, {})));
  CHECK(wants_keep_alive(header_of(11, {{"Connection", "foo"}})));
  CHECK_FALSE(wants_keep_alive(header_of(11, {{"Connection", "close"}})));
  CHECK_FALSE(wants_keep_alive(header_of(11, {{"Connection", "foo"}, {"Connection", "close"}})));
  CHECK_FALSE(wants_keep_alive(header_of(11, {{"Connection", "upgrade ,  CLOSE"}})));
  CHECK_FALSE(wants_keep_alive(header_of(10, {})));
  CHECK(wants_keep_alive(header_of(10, {{"Connection", "Keep-Alive"}})));
  CHECK(wants_keep_alive(header_of(10, {{"Connection", "foo"}, {"Connection", "keep-alive"}})));
  CHECK_FALSE(wants_keep_alive(header_of(10, {{"Connection", "keep-alive, close"}})));
  CHECK_FALSE(wants_keep_alive(header_of(10, {{"Connection", "keep-alive-ish"}})));
}

TEST_CASE("framing: 100-continue among any Expect field's members, in HTTP/1.1 only", "[server]") {
  using icp::server::expects_continue;
  CHECK(expects_continue(header_of(11, {{"Expect", "100-continue"}})));
  CHECK(expects_continue(header_of(11, {{"Expect", "100-Continue"}})));
  CHECK(expects_continue(header_of(11, {{"Expect", " foo , 100-continue "}})));
  CHECK(expects_continue(header_of(11, {{"Expect", "foo"}, {"Expect", "100-continue"}})));
  CHECK_FALSE(expects_continue(header_of(11, {})));
  CHECK_FALSE(expects_continue(header_of(11, {{"Expect", "100-continued"}})));
  CHECK_FALSE(expects_continue(header_of(10, {{"Expect", "100-continue"}})));
}
