// libFuzzer target: any bytes at the Clerk token verifier. It must answer
// with a caller or `unauthorized`, never crash, hang or leak, and never echo
// the token (a message has no run of over 40 characters without a space).
// The first byte picks what the rest is:
//   0   a raw token, as a client could send it;
//   1   "HEADER\nPAYLOAD" JSON, signed here with the verifier's key (RS256),
//       so the claim checks behind the signature are reached too.
#include <icp/clerk.hpp>

#include "jwt_support.hpp"

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

namespace {

struct Fixture {
  icp::test::Key key = icp::test::rsa_key(2048);
  std::shared_ptr<icp::clerk::ClerkAuthenticator> clerk;

  Fixture() {
    auto created =
        icp::clerk::ClerkAuthenticator::create({.public_key_pem = icp::test::public_pem(key),
                                                .authorized_parties = {"https://app.example"},
                                                .reject_pending_sessions = true});
    if (!created) std::abort();
    clerk = *created;
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const Fixture fixture;
  if (size == 0) return 0;
  // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast): libFuzzer gives bytes
  const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::string token;
  if (data[0] == 1) {
    const auto newline = rest.find('\n');
    if (newline == std::string_view::npos) return 0;
    token = icp::test::jwt(fixture.key, rest.substr(0, newline), rest.substr(newline + 1));
  } else {
    token = rest;
  }
  const auto caller = fixture.clerk->verify(token);
  if (caller) {
    if (caller->user_id().empty()) std::abort();
  } else {
    if (caller.error().code != icp::Errc::unauthorized) std::abort();
    // The token is never repeated: a message is short words and numbers,
    // and a token's parts are long runs without a space.
    const auto& message = caller.error().message;
    if (message.size() > 400) std::abort();
    std::size_t run = 0;
    for (const char c : message) {
      run = c == ' ' ? 0 : run + 1;
      if (run > 40) std::abort();
    }
  }
  return 0;
}
