#pragma once

// RSA PKCS#1 v1.5 signatures (RS256, RS384, RS512) checked with OpenSSL 3
// against one public key, from many threads.

#include <icp/error.hpp>

#include <openssl/evp.h>

#include <array>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>
#include <vector>

namespace icp::detail {

/// The RS* algorithms: their name in `alg` and their hash.
struct RsaAlgorithm {
  std::string_view name;
  const char* digest;
};
inline constexpr std::array<RsaAlgorithm, 3> kRsaAlgorithms{
    {{"RS256", "SHA256"}, {"RS384", "SHA384"}, {"RS512", "SHA512"}}};

struct KeyFree {
  void operator()(EVP_PKEY* key) const noexcept { EVP_PKEY_free(key); }
};
struct ContextFree {
  void operator()(EVP_PKEY_CTX* context) const noexcept { EVP_PKEY_CTX_free(context); }
};
struct DigestFree {
  void operator()(EVP_MD* digest) const noexcept { EVP_MD_free(digest); }
};
using KeyPtr = std::unique_ptr<EVP_PKEY, KeyFree>;
using ContextPtr = std::unique_ptr<EVP_PKEY_CTX, ContextFree>;
using DigestPtr = std::unique_ptr<EVP_MD, DigestFree>;
struct DigestContextFree {
  void operator()(EVP_MD_CTX* context) const noexcept { EVP_MD_CTX_free(context); }
};
using DigestContextPtr = std::unique_ptr<EVP_MD_CTX, DigestContextFree>;

/// What one verification needs, set up once and reused: the RSA context
/// (initialised for PKCS#1 v1.5 with the algorithm's hash) and a hash context.
struct Verifier {
  ContextPtr rsa;
  DigestContextPtr hash;
};

/// One public key and the verifiers that use it. Thread-safe.
class RsaVerifier {
 public:
  /// From a PEM public key (SPKI; `\n` escapes as line breaks), RSA of
  /// 2048 to 16384 bits; `bad_request` saying what is wrong otherwise.
  [[nodiscard]] static Result<std::unique_ptr<RsaVerifier>> from_pem(std::string_view pem);

  /// True when `signature` is the kRsaAlgorithms[algorithm] signature of
  /// `signed_part`.
  [[nodiscard]] bool signature_holds(std::size_t algorithm, std::string_view signed_part,
                                     std::string_view signature) const;

 private:
  [[nodiscard]] std::optional<Verifier> take_verifier(std::size_t algorithm) const;
  void give_back(std::size_t algorithm, Verifier verifier) const;

  KeyPtr key_;
  std::array<DigestPtr, kRsaAlgorithms.size()> digests_;
  // Verifiers set up once per algorithm and reused (as `openssl speed` does):
  // setting one up costs about as much as the RSA verify itself. One serves
  // one thread at a time; the pool hands them out.
  mutable std::mutex mutex_;
  mutable std::array<std::vector<Verifier>, kRsaAlgorithms.size()> idle_;
};

}  // namespace icp::detail
