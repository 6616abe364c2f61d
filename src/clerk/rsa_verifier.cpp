#include "clerk/rsa_verifier.hpp"

#include <fmt/format.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

namespace icp::detail {

namespace {

constexpr int kMinKeyBits = 2048;
constexpr int kMaxKeyBits = 16384;

/// PEM as it arrives from an environment variable or a JSON config: `\n`
/// escapes become line breaks, surrounding blanks go.
std::string unescape_pem(std::string_view pem) {
  std::string out;
  out.reserve(pem.size());
  for (std::size_t i = 0; i < pem.size(); ++i) {
    if (pem[i] == '\\' && i + 1 < pem.size() && pem[i + 1] == 'n') {
      out.push_back('\n');
      ++i;
    } else {
      out.push_back(pem[i]);
    }
  }
  const auto first = out.find_first_not_of(" \t\r\n");
  const auto last = out.find_last_not_of(" \t\r\n");
  if (first == std::string::npos) return {};
  return out.substr(first, last - first + 1) + "\n";
}

}  // namespace

Result<std::unique_ptr<RsaVerifier>> RsaVerifier::from_pem(std::string_view pem) {
  const auto text = unescape_pem(pem);
  if (text.empty()) {
    return Error{Errc::bad_request,
                 "no Clerk public key: give the PEM of your instance's JWT public key (Clerk "
                 "dashboard, API keys, \"Show JWT public key\")"};
  }
  if (!text.starts_with("-----BEGIN PUBLIC KEY-----")) {
    return Error{Errc::bad_request,
                 "the Clerk public key must be PEM starting with -----BEGIN PUBLIC KEY----- "
                 "(SPKI); a certificate or a private key is not accepted"};
  }
  const std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(text.data(), static_cast<int>(text.size())), &BIO_free);
  KeyPtr key(bio ? PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  if (!key) {
    return Error{Errc::bad_request, "the Clerk public key is not a readable PEM public key"};
  }
  if (EVP_PKEY_is_a(key.get(), "RSA") != 1) {
    return Error{Errc::bad_request,
                 fmt::format("the Clerk public key is a {} key; Clerk signs session tokens with "
                             "RSA (RS256)",
                             EVP_PKEY_get0_type_name(key.get()))};
  }
  const int bits = EVP_PKEY_get_bits(key.get());
  if (bits < kMinKeyBits || bits > kMaxKeyBits) {
    return Error{Errc::bad_request,
                 fmt::format("the Clerk public key has {} bits; {} to {} are accepted", bits,
                             kMinKeyBits, kMaxKeyBits)};
  }
  auto verifier = std::make_unique<RsaVerifier>();
  for (std::size_t i = 0; i < kRsaAlgorithms.size(); ++i) {
    verifier->digests_.at(i).reset(EVP_MD_fetch(nullptr, kRsaAlgorithms.at(i).digest, nullptr));
    if (!verifier->digests_.at(i)) {
      return Error{Errc::internal, fmt::format("OpenSSL has no {}", kRsaAlgorithms.at(i).digest)};
    }
  }
  verifier->key_ = std::move(key);
  return verifier;
}

std::optional<Verifier> RsaVerifier::take_verifier(std::size_t algorithm) const {
  {
    const std::lock_guard lock(mutex_);
    auto& verifiers = idle_.at(algorithm);
    if (!verifiers.empty()) {
      auto verifier = std::move(verifiers.back());
      verifiers.pop_back();
      return verifier;
    }
  }
  Verifier verifier{ContextPtr(EVP_PKEY_CTX_new_from_pkey(nullptr, key_.get(), nullptr)),
                    DigestContextPtr(EVP_MD_CTX_new())};
  if (!verifier.rsa || !verifier.hash || EVP_PKEY_verify_init(verifier.rsa.get()) <= 0 ||
      EVP_PKEY_CTX_set_rsa_padding(verifier.rsa.get(), RSA_PKCS1_PADDING) <= 0 ||
      EVP_PKEY_CTX_set_signature_md(verifier.rsa.get(), digests_.at(algorithm).get()) <= 0) {
    return std::nullopt;
  }
  return verifier;
}

void RsaVerifier::give_back(std::size_t algorithm, Verifier verifier) const {
  const std::lock_guard lock(mutex_);
  idle_.at(algorithm).push_back(std::move(verifier));
}

bool RsaVerifier::signature_holds(std::size_t algorithm, std::string_view signed_part,
                                  std::string_view signature) const {
  auto verifier = take_verifier(algorithm);
  if (!verifier) return false;
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int digest_size = 0;
  const bool valid =
      EVP_DigestInit_ex2(verifier->hash.get(), digests_.at(algorithm).get(), nullptr) == 1 &&
      EVP_DigestUpdate(verifier->hash.get(), signed_part.data(), signed_part.size()) == 1 &&
      EVP_DigestFinal_ex(verifier->hash.get(), digest.data(), &digest_size) == 1 &&
      EVP_PKEY_verify(verifier->rsa.get(),
                      // OpenSSL takes bytes as unsigned char.
                      // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast)
                      reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
                      digest.data(), digest_size) == 1;
  give_back(algorithm, std::move(*verifier));
  return valid;
}

}  // namespace icp::detail
