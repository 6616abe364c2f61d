#include "icp-server/outgoing_response.hpp"

#include <boost/asio/buffer.hpp>
#include <catch2/catch.hpp>

#include <string>

namespace {

using icp::server::OutgoingResponse;

/// What buffers() would send, as one string.
std::string sent(const OutgoingResponse& response) {
  std::string bytes;
  for (const auto& buffer : response.buffers()) {
    bytes.append(static_cast<const char*>(buffer.data()), buffer.size());
  }
  return bytes;
}

}  // namespace

TEST_CASE("an answer is its status line, its fields in order, Content-Length, then the body",
          "[server]") {
  OutgoingResponse response;
  response.set("Content-Type", "application/json");
  response.set("ETag", R"("0123456789abcdef")");
  response.finish(200, R"({"a":1})", true, false);
  CHECK(sent(response) ==
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nETag: \"0123456789abcdef\"\r\n"
        "Content-Length: 7\r\n\r\n{\"a\":1}");
  CHECK(response.status() == 200);
  CHECK(response.body_bytes() == 7);
}

TEST_CASE("Connection: close unless kept alive; HEAD keeps GET's length and sends no body",
          "[server]") {
  OutgoingResponse response;
  response.finish(404, "gone", false, true);
  CHECK(sent(response) ==
        "HTTP/1.1 404 Not Found\r\nContent-Length: 4\r\nConnection: close\r\n\r\n");
  CHECK(response.body_bytes() == 0);
}

TEST_CASE("204 and 304 carry no Content-Length (RFC 9110 section 8.6)", "[server]") {
  OutgoingResponse response;
  response.finish(204, "", true, false);
  CHECK(sent(response) == "HTTP/1.1 204 No Content\r\n\r\n");
  response.clear();
  response.finish(304, "", true, false);
  CHECK(sent(response) == "HTTP/1.1 304 Not Modified\r\n\r\n");
  // Such an answer has no body (RFC 9112 section 6.3): one given is not sent,
  // or the client would read it as the next answer.
  response.clear();
  response.finish(204, "stray", true, false);
  CHECK(sent(response) == "HTTP/1.1 204 No Content\r\n\r\n");
  CHECK(response.body_bytes() == 0);
}

TEST_CASE("a field that could split the answer is dropped, never sent", "[server]") {
  OutgoingResponse response;
  response.set("Location", "/a\r\nSet-Cookie: stolen=1");
  response.set("Link", "</a>\n; rel=next");
  response.set("X-Nul", std::string("a\0b", 3));
  response.set("Bad Name", "x");
  response.set("Bad:Name", "x");
  response.set("", "x");
  response.set("X-Fine", "ok");
  response.finish(200, "", true, false);
  CHECK(sent(response) == "HTTP/1.1 200 OK\r\nX-Fine: ok\r\nContent-Length: 0\r\n\r\n");
}

TEST_CASE("has() finds a field by name in any case; clear() forgets every field", "[server]") {
  OutgoingResponse response;
  response.set("Retry-After", "1");
  response.set("content-type", "text/plain");
  CHECK(response.has("Content-Type"));
  CHECK(response.has("RETRY-AFTER"));
  CHECK_FALSE(response.has("Content"));
  CHECK_FALSE(response.has("ETag"));
  response.clear();
  CHECK_FALSE(response.has("Content-Type"));
  response.finish(503, "{}", true, false);
  CHECK(sent(response) == "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 2\r\n\r\n{}");
}
