#pragma once

// JWT minting with OpenSSL for the tests, the benchmark and the fuzzer: keys
// generated on the spot, tokens signed (or mis-signed) exactly as needed.
// Framework-free; an OpenSSL failure throws.

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

namespace icp::test {

struct KeyFree {
  void operator()(EVP_PKEY* key) const noexcept { EVP_PKEY_free(key); }
};
using Key = std::unique_ptr<EVP_PKEY, KeyFree>;

inline void require(bool ok, const char* what) {
  if (!ok) throw std::runtime_error(std::string("OpenSSL failed to ") + what);
}

inline Key rsa_key(unsigned bits) {
  Key key(EVP_RSA_gen(bits));
  require(key != nullptr, "generate an RSA key");
  return key;
}

inline Key ec_key() {
  Key key(EVP_EC_gen("P-256"));
  require(key != nullptr, "generate an EC key");
  return key;
}

/// The public half as SPKI PEM (`-----BEGIN PUBLIC KEY-----`).
inline std::string public_pem(const Key& key) {
  const std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
  require(PEM_write_bio_PUBKEY(bio.get(), key.get()) == 1, "write a PEM public key");
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  return {data, static_cast<std::size_t>(size)};
}

inline std::string base64url(std::string_view bytes) {
  static constexpr std::string_view kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  unsigned buffer = 0;
  int bits = 0;
  for (const char c : bytes) {
    buffer = (buffer << 8U) | static_cast<unsigned char>(c);
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += kAlphabet[(buffer >> static_cast<unsigned>(bits)) & 0x3fU];
    }
  }
  if (bits > 0) out += kAlphabet[(buffer << static_cast<unsigned>(6 - bits)) & 0x3fU];
  return out;
}

/// A signature over `signing_input` with an RSA key: PKCS#1 v1.5 (RS*) or PSS (PS*).
inline std::string rsa_sign(const Key& key, const char* digest, std::string_view signing_input,
                            bool pss = false) {
  const std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> context(EVP_MD_CTX_new(),
                                                                        &EVP_MD_CTX_free);
  EVP_PKEY_CTX* key_context = nullptr;
  require(EVP_DigestSignInit_ex(context.get(), &key_context, digest, nullptr, nullptr, key.get(),
                                nullptr) == 1,
          "start signing");
  if (pss)
    require(EVP_PKEY_CTX_set_rsa_padding(key_context, RSA_PKCS1_PSS_PADDING) == 1, "use PSS");
  std::size_t size = 0;
  const auto* input = reinterpret_cast<const unsigned char*>(signing_input.data());
  require(EVP_DigestSign(context.get(), nullptr, &size, input, signing_input.size()) == 1, "sign");
  std::string signature(size, '\0');
  require(EVP_DigestSign(context.get(), reinterpret_cast<unsigned char*>(signature.data()), &size,
                         input, signing_input.size()) == 1,
          "sign");
  signature.resize(size);
  return signature;
}

inline std::string hmac_sha256(std::string_view secret, std::string_view signing_input) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned size = 0;
  require(HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
               reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size(),
               mac, &size) != nullptr,
          "compute an HMAC");
  return {reinterpret_cast<const char*>(mac), size};
}

/// `header.payload.signature` from JSON texts, signed with `key` by `alg`
/// (RS256/384/512, PS256); `signature` replaces the signature when given.
inline std::string jwt(const Key& key, std::string_view header_json, std::string_view payload_json,
                       std::string_view alg = "RS256") {
  const auto signing_input = base64url(header_json) + "." + base64url(payload_json);
  const char* digest = alg.ends_with("384") ? "SHA384" : alg.ends_with("512") ? "SHA512" : "SHA256";
  return signing_input + "." +
         base64url(rsa_sign(key, digest, signing_input, alg.starts_with("PS")));
}

}  // namespace icp::test
