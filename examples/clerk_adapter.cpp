// The ICP routes behind Clerk sign-in: the adapter with a ClerkAuthenticator
// built from the instance's PEM public key in CLERK_JWT_KEY.
//   CLERK_JWT_KEY="$(cat clerk.pem)" clerk_adapter DB SESSION_TOKEN
// prints the status and body of GET /api/v1/entities/icps for that token.
#include <icp/clerk.hpp>
#include <icp/http.hpp>
#include <icp/sqlite_store.hpp>

#include <fmt/core.h>

#include <string>

int main(int argc, char** argv) {
  if (argc != 3) {
    fmt::print(stderr, "usage: CLERK_JWT_KEY=PEM clerk_adapter DB SESSION_TOKEN\n");
    return 2;
  }
  auto store = icp::open_sqlite_store(argv[1], {.create_if_missing = true});
  if (!store) return 2;
  // [clerk]
  auto pem = icp::clerk::key_from_environment("CLERK_JWT_KEY");  // or read_key_file(path)
  if (!pem) return 2;
  auto clerk = icp::clerk::ClerkAuthenticator::create(
      {.public_key_pem = *pem, .authorized_parties = {"https://app.example"}});
  if (!clerk) return 2;
  const icp::http::Adapter adapter(icp::IcpService(*store), *clerk);
  // [clerk]
  const std::string authorization = std::string("Bearer ") + argv[2];
  const auto answer = adapter.handle({.method = "GET",
                                      .target = "/api/v1/entities/icps",
                                      .headers = {{"Authorization", authorization}},
                                      .body = ""});
  fmt::print("{} {}\n", answer.status, answer.body);
  return 0;
}
