// Serving the ICP routes from a host's own HTTP framework: convert its request
// to icp::http::Request, call Adapter::handle, convert the answer back. The
// "framework" here is a stand-in with the shapes most have (a request with a
// header map, a response with set_header); the glue is the ten lines of
// serve_icp_routes.
#include <icp/http.hpp>
#include <icp/sqlite_store.hpp>

#include <fmt/core.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <string>

namespace host {  // what a host framework typically gives its handlers

struct Request {
  std::string method;
  std::string url;  // path and query
  std::multimap<std::string, std::string> headers;
  std::string body;
};

struct Response {
  int code = 200;
  std::multimap<std::string, std::string> headers;
  std::string body;
  void set_header(std::string name, std::string value) {
    headers.emplace(std::move(name), std::move(value));
  }
};

}  // namespace host

// The glue: one function the host registers for every path Adapter::serves().
host::Response serve_icp_routes(const icp::http::Adapter& adapter, const host::Request& in) {
  icp::http::Request request{.method = in.method, .target = in.url, .body = in.body};
  for (const auto& [name, value] : in.headers) request.headers.emplace_back(name, value);
  const icp::http::Response answer = adapter.handle(request);
  host::Response out{.code = answer.status, .body = answer.body};
  for (const auto& [name, value] : answer.headers) out.set_header(name, value);
  return out;
}

int main() {
  const auto path =
      std::filesystem::temp_directory_path() / fmt::format("icp-host-example-{}.db", ::getpid());
  std::filesystem::remove(path);
  auto store = icp::open_sqlite_store(path, {.create_if_missing = true});
  auto tokens =
      icp::http::StaticTokenAuthenticator::from_json(R"({"tok_alice": {"userId": "user_abc123"}})");
  if (!store || !tokens) return 1;
  const icp::http::Adapter adapter(icp::IcpService(*store), *tokens);

  // What the host's router would do with three requests.
  const std::vector<host::Request> requests{
      {"POST",
       "/api/v1/entities/icps",
       {{"Authorization", "Bearer tok_alice"}, {"Content-Type", "application/json"}},
       R"({"name":"From the host","leadProviderCriteria":[]})"},
      {"GET", "/api/v1/entities/icps?limit=10", {{"Authorization", "Bearer tok_alice"}}, ""},
      {"GET", "/api/v1/entities/icps", {}, ""},
  };
  for (const auto& request : requests) {
    if (!adapter.serves(request.url)) continue;  // the host's own routes
    const auto response = serve_icp_routes(adapter, request);
    fmt::print("{} {} -> {} {}\n", request.method, request.url, response.code,
               response.body.substr(0, 60));
  }
  std::filesystem::remove(path);
  return 0;
}
