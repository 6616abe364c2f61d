// libFuzzer target: any bytes at the Clerk token verifier. It must answer
// with a caller or `unauthorized`, never crash, hang or leak, and never echo
// the token (a message has no run of over 40 characters without a space). The first byte picks what
// the rest is:
//   0   a raw token, as a client could send it;
//   1   "HEADER\nPAYLOAD" JSON, signed here with the verifier's key (RS256),
//       so the claim checks behind the signature are reached too.
#include <icp/clerk.hpp>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

namespace {

struct Fixture {
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key{EVP_RSA_gen(2048), &EVP_PKEY_free};
  std::shared_ptr<icp::clerk::ClerkAuthenticator> clerk;

  Fixture() {
    const std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
    PEM_write_bio_PUBKEY(bio.get(), key.get());
    char* pem = nullptr;
    const long size = BIO_get_mem_data(bio.get(), &pem);
    auto created = icp::clerk::ClerkAuthenticator::create(
        {.public_key_pem = std::string(pem, static_cast<std::size_t>(size)),
         .authorized_parties = {"https://app.example"},
         .reject_pending_sessions = true});
    if (!created) std::abort();
    clerk = *created;
  }
};

std::string base64url(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int written = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                      reinterpret_cast<const unsigned char*>(bytes.data()),
                                      static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(written));
  while (!out.empty() && out.back() == '=') out.pop_back();
  for (char& c : out) c = c == '+' ? '-' : c == '/' ? '_' : c;
  return out;
}

std::string signed_token(EVP_PKEY* key, std::string_view header, std::string_view payload) {
  const auto input = base64url(header) + "." + base64url(payload);
  const std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> context(EVP_MD_CTX_new(),
                                                                        &EVP_MD_CTX_free);
  std::string signature(512, '\0');
  std::size_t size = signature.size();
  if (EVP_DigestSignInit(context.get(), nullptr, EVP_sha256(), nullptr, key) != 1 ||
      EVP_DigestSign(context.get(), reinterpret_cast<unsigned char*>(signature.data()), &size,
                     reinterpret_cast<const unsigned char*>(input.data()), input.size()) != 1) {
    std::abort();
  }
  signature.resize(size);
  return input + "." + base64url(signature);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const Fixture fixture;
  if (size == 0) return 0;
  const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::string token;
  if (data[0] == 1) {
    const auto newline = rest.find('\n');
    if (newline == std::string_view::npos) return 0;
    token = signed_token(fixture.key.get(), rest.substr(0, newline), rest.substr(newline + 1));
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
