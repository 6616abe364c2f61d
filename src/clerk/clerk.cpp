#include <icp/clerk.hpp>

#include <icp/json.hpp>

#include "../http/text.hpp"
#include "../json_internal.hpp"

#include <fmt/format.h>
#include <fmt/std.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <boost/json.hpp>

#include <array>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <mutex>
#include <optional>

namespace icp::clerk {

namespace {

namespace json = boost::json;

constexpr int kMinKeyBits = 2048;
constexpr int kMaxKeyBits = 16384;

Error reject(std::string_view reason, std::string_view why) {
  return Error{Errc::unauthorized, fmt::format("{}: {}", reason, why)};
}

/// Strict unpadded base64url (RFC 7515 section 2): the alphabet only, no
/// padding, no whitespace, unused trailing bits zero. Written here because
/// OpenSSL's decoder takes standard base64 with padding and skips whitespace.
/// Decodes into `out` from offset `at` on, growing it as needed; returns the
/// decoded bytes, a view into `out`.
std::optional<std::string_view> decode_base64url(std::string_view text, std::string& out,
                                                 std::size_t at) {
  static constexpr auto kValues = [] {
    std::array<std::int8_t, 256> values{};
    values.fill(-1);
    constexpr std::string_view kAlphabet =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    for (std::size_t i = 0; i < kAlphabet.size(); ++i) {
      values.at(static_cast<unsigned char>(kAlphabet[i])) = static_cast<std::int8_t>(i);
    }
    return values;
  }();
  const auto value = [&](std::size_t i) {
    return static_cast<int>(kValues[static_cast<unsigned char>(text[i])]);
  };
  const std::size_t tail = text.size() % 4;
  if (tail == 1) return std::nullopt;
  const std::size_t start = at;
  const std::size_t size = text.size() / 4 * 3 + (tail == 0 ? 0 : tail - 1);
  if (out.size() < at + size) out.resize(at + size);
  std::size_t i = 0;
  // Four characters make three bytes; a negative value is a character
  // outside the alphabet, and taints the OR of the four.
  for (; i + 4 <= text.size(); i += 4) {
    const int a = value(i);
    const int b = value(i + 1);
    const int c = value(i + 2);
    const int d = value(i + 3);
    if ((a | b | c | d) < 0) return std::nullopt;
    const auto bits = static_cast<std::uint32_t>((a << 18) | (b << 12) | (c << 6) | d);
    out[at++] = static_cast<char>(bits >> 16U);
    out[at++] = static_cast<char>((bits >> 8U) & 0xffU);
    out[at++] = static_cast<char>(bits & 0xffU);
  }
  if (tail >= 2) {
    const int a = value(i);
    const int b = value(i + 1);
    const int c = tail == 3 ? value(i + 2) : 0;
    if ((a | b | c) < 0) return std::nullopt;
    const auto bits = static_cast<std::uint32_t>((a << 18) | (b << 12) | (c << 6));
    // A canonical encoding leaves the unused low bits zero.
    if ((bits & (tail == 2 ? 0xffffU : 0xffU)) != 0) return std::nullopt;
    out[at++] = static_cast<char>(bits >> 16U);
    if (tail == 3) out[at] = static_cast<char>((bits >> 8U) & 0xffU);
  }
  return std::string_view(out).substr(start, size);
}

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

/// The RS* algorithms: their name in `alg` and their hash.
struct Algorithm {
  std::string_view name;
  const char* digest;
};
constexpr std::array<Algorithm, 3> kAlgorithms{
    {{"RS256", "SHA256"}, {"RS384", "SHA384"}, {"RS512", "SHA512"}}};

/// A NumericDate claim (seconds since the epoch, maybe fractional) in ms;
/// nullopt when absent, an error when present but not a number.
Result<std::optional<double>> numeric_date_ms(const json::object& claims, std::string_view name) {
  const auto* value = claims.if_contains(name);
  if (value == nullptr) return std::optional<double>{};
  if (!value->is_number()) {
    return reject("token-invalid", fmt::format("the {} claim is not a number", name));
  }
  return std::optional<double>{value->to_number<double>() * 1000.0};
}

/// The value of cookie `name` in a Cookie header (`a=1; __session=xyz`),
/// without the quotes RFC 6265 allows around it.
std::optional<std::string_view> cookie_value(std::string_view header, std::string_view name) {
  while (!header.empty()) {
    const auto end = header.find(';');
    auto pair = header.substr(0, end);
    header = end == std::string_view::npos ? std::string_view{} : header.substr(end + 1);
    while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
    if (pair.size() > name.size() && pair.starts_with(name) && pair[name.size()] == '=') {
      auto value = pair.substr(name.size() + 1);
      while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
      if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
        value = value.substr(1, value.size() - 2);
      }
      return value;
    }
  }
  return std::nullopt;
}

std::string format_seconds(double ms) { return fmt::format("{:.0f}", std::floor(ms / 1000.0)); }

}  // namespace

struct ClerkAuthenticator::Impl {
  ClerkOptions options;
  KeyPtr key;
  std::array<DigestPtr, kAlgorithms.size()> digests;
  // Verifiers set up once per algorithm and reused (as `openssl speed` does):
  // setting one up costs about as much as the RSA verify itself. One serves
  // one thread at a time; the pool hands them out.
  mutable std::mutex mutex;
  mutable std::array<std::vector<Verifier>, kAlgorithms.size()> idle;

  std::optional<Verifier> take_verifier(std::size_t algorithm) const {
    {
      const std::lock_guard lock(mutex);
      auto& verifiers = idle.at(algorithm);
      if (!verifiers.empty()) {
        auto verifier = std::move(verifiers.back());
        verifiers.pop_back();
        return verifier;
      }
    }
    Verifier verifier{ContextPtr(EVP_PKEY_CTX_new_from_pkey(nullptr, key.get(), nullptr)),
                      DigestContextPtr(EVP_MD_CTX_new())};
    if (!verifier.rsa || !verifier.hash || EVP_PKEY_verify_init(verifier.rsa.get()) <= 0 ||
        EVP_PKEY_CTX_set_rsa_padding(verifier.rsa.get(), RSA_PKCS1_PADDING) <= 0 ||
        EVP_PKEY_CTX_set_signature_md(verifier.rsa.get(), digests.at(algorithm).get()) <= 0) {
      return std::nullopt;
    }
    return verifier;
  }

  void give_back(std::size_t algorithm, Verifier verifier) const {
    const std::lock_guard lock(mutex);
    idle.at(algorithm).push_back(std::move(verifier));
  }

  /// True when `signature` is the algorithm's RSA signature of `signed_part`.
  bool signature_holds(std::size_t algorithm, std::string_view signed_part,
                       std::string_view signature) const {
    auto verifier = take_verifier(algorithm);
    if (!verifier) return false;
    std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
    unsigned int digest_size = 0;
    const bool valid =
        EVP_DigestInit_ex2(verifier->hash.get(), digests.at(algorithm).get(), nullptr) == 1 &&
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

  [[nodiscard]] double now_ms() const {
    const auto now = options.clock ? options.clock() : std::chrono::system_clock::now();
    return std::chrono::duration<double, std::milli>(now.time_since_epoch()).count();
  }

  [[nodiscard]] bool is_admin(const json::object& claims) const {
    const auto& admin = options.admin;
    return holds(claims, admin.path, admin.value) ||
           std::ranges::any_of(admin.alternatives, [&](const auto& alternative) {
             return holds(claims, alternative.first, alternative.second);
           });
  }

  /// Whether the claim at the dot-separated `path` is `value`, or an array
  /// of strings holding it.
  [[nodiscard]] static bool holds(const json::object& claims, std::string_view path,
                                  std::string_view value) {
    const json::value* node = nullptr;
    const json::object* object = &claims;
    while (object != nullptr) {
      const auto dot = path.find('.');
      node = object->if_contains(path.substr(0, dot));
      if (node == nullptr || dot == std::string_view::npos) break;
      path.remove_prefix(dot + 1);
      object = node->if_object();
      node = nullptr;
    }
    if (node == nullptr) return false;
    if (const auto* text = node->if_string()) return *text == value;
    if (const auto* list = node->if_array()) {
      return std::ranges::any_of(*list, [&](const json::value& item) {
        const auto* text = item.if_string();
        return text != nullptr && *text == value;
      });
    }
    return false;
  }
};

ClerkAuthenticator::ClerkAuthenticator(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ClerkAuthenticator::~ClerkAuthenticator() = default;

namespace {

/// The session's active organization: `o.id` (session token v2) or `org_id`
/// (v1); empty for a personal session. A claim of the wrong shape is refused
/// rather than read as "no organization".
Result<std::string> active_organization(const json::object& claims) {
  const auto invalid = [] {
    return reject("token-invalid",
                  fmt::format("the active organization (o.id or org_id) must be 1 to {} "
                              "characters of visible ASCII",
                              kMaxOrganizationBytes));
  };
  const json::value* v2 = nullptr;
  if (const auto* o = claims.if_contains("o")) {
    if (!o->is_object()) return invalid();
    v2 = o->get_object().if_contains("id");
  }
  const json::value* v1 = claims.if_contains("org_id");
  for (const auto* claim : {v2, v1}) {
    if (claim != nullptr && (!claim->is_string() || !is_valid_organization(claim->get_string()))) {
      return invalid();
    }
  }
  if (v2 != nullptr && v1 != nullptr && v2->get_string() != v1->get_string()) {
    return reject("token-invalid",
                  "the token names two different active organizations (o.id and org_id)");
  }
  const auto* active = v2 != nullptr ? v2 : v1;
  return active != nullptr ? std::string(active->get_string()) : std::string();
}

}  // namespace

Result<AdminClaim> AdminClaim::parse(std::string_view spec) {
  const auto equals = spec.find('=');
  if (equals == std::string_view::npos || equals == 0 || equals + 1 == spec.size()) {
    return Error{Errc::bad_request,
                 "an admin claim is PATH=VALUE, e.g. metadata.role=admin or o.rol=admin"};
  }
  const auto path = spec.substr(0, equals);
  if (path.front() == '.' || path.back() == '.' || path.find("..") != std::string_view::npos) {
    return Error{
        Errc::bad_request,
        fmt::format("admin claim path \"{}\": segments are separated by single dots", path)};
  }
  return AdminClaim{.path = std::string(path), .value = std::string(spec.substr(equals + 1))};
}

Result<std::shared_ptr<ClerkAuthenticator>> ClerkAuthenticator::create(ClerkOptions options) {
  const auto pem = unescape_pem(options.public_key_pem);
  if (pem.empty()) {
    return Error{Errc::bad_request,
                 "no Clerk public key: give the PEM of your instance's JWT public key (Clerk "
                 "dashboard, API keys, \"Show JWT public key\")"};
  }
  if (!pem.starts_with("-----BEGIN PUBLIC KEY-----")) {
    return Error{Errc::bad_request,
                 "the Clerk public key must be PEM starting with -----BEGIN PUBLIC KEY----- "
                 "(SPKI); a certificate or a private key is not accepted"};
  }
  const std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), &BIO_free);
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
  for (const auto* list : {&options.authorized_parties, &options.issuers}) {
    for (const auto& entry : *list) {
      if (entry.empty()) {
        return Error{Errc::bad_request, "an authorized party or issuer may not be empty"};
      }
    }
  }
  auto impl = std::make_unique<Impl>();
  for (std::size_t i = 0; i < kAlgorithms.size(); ++i) {
    impl->digests.at(i).reset(EVP_MD_fetch(nullptr, kAlgorithms.at(i).digest, nullptr));
    if (!impl->digests.at(i)) {
      return Error{Errc::internal, fmt::format("OpenSSL has no {}", kAlgorithms.at(i).digest)};
    }
  }
  impl->key = std::move(key);
  impl->options = std::move(options);
  impl->options.public_key_pem.clear();  // not kept: nothing to leak later
  return std::make_shared<ClerkAuthenticator>(std::move(impl));
}

Result<AuthContext> ClerkAuthenticator::authenticate(const http::Request& request) const {
  const bool has_authorization = std::ranges::any_of(request.headers, [](const auto& header) {
    return icp::detail::equals_ignoring_case(header.first, "Authorization");
  });
  if (!has_authorization && impl_->options.accept_session_cookie) {
    for (const auto& [name, value] : request.headers) {
      if (!icp::detail::equals_ignoring_case(name, "Cookie")) continue;
      if (auto session = cookie_value(value, "__session")) return verify(*session);
    }
    return reject("token-missing",
                  "send Authorization: Bearer <session token> or the __session cookie");
  }
  const auto token = http::bearer_token(request);
  if (!token) return token.error();
  return verify(*token);
}

Result<AuthContext> ClerkAuthenticator::verify(std::string_view token) const {
  if (token.size() > kMaxTokenBytes) {
    return reject("token-too-large", fmt::format("the token has {} bytes; at most {} are accepted",
                                                 token.size(), kMaxTokenBytes));
  }
  const auto first_dot = token.find('.');
  const auto second_dot =
      first_dot == std::string_view::npos ? first_dot : token.find('.', first_dot + 1);
  if (second_dot == std::string_view::npos ||
      token.find('.', second_dot + 1) != std::string_view::npos) {
    return reject("token-invalid", "a JWT has three base64url parts separated by dots");
  }
  const auto header_part = token.substr(0, first_dot);
  const auto payload_part = token.substr(first_dot + 1, second_dot - first_dot - 1);
  const auto signature_part = token.substr(second_dot + 1);

  // 1. The header, and in it the algorithm, before anything else is used.
  // The three parts decode into one buffer, reserved once; views into it
  // stay valid as nothing grows it past the reservation.
  std::string decoded;
  decoded.reserve(token.size() / 4 * 3 + 3);
  const auto header_text = decode_base64url(header_part, decoded, 0);
  if (!header_text) return reject("token-invalid", "the header is not base64url");
  // Header and claims are small: parsed into one buffer on the stack.
  std::array<unsigned char, 4096> buffer;  // NOLINT(cppcoreguidelines-pro-type-member-init)
  json::monotonic_resource memory(buffer.data(), buffer.size());
  const auto header = icp::detail::parse_json(*header_text, &memory);
  if (!header || !header->is_object()) {
    return reject("token-invalid", "the header is not a JSON object with unique keys");
  }
  const auto* alg = header->as_object().if_contains("alg");
  const auto* alg_name = alg != nullptr ? alg->if_string() : nullptr;
  const auto* const algorithm = std::ranges::find_if(kAlgorithms, [&](const Algorithm& candidate) {
    return alg_name != nullptr && *alg_name == candidate.name;
  });
  if (algorithm == kAlgorithms.end()) {
    // Only a registered JWA name is repeated: anything else in the header is
    // the sender's text, and a message never carries the token's.
    constexpr std::array<std::string_view, 11> kKnown{"none",  "HS256", "HS384", "HS512",
                                                      "PS256", "PS384", "PS512", "ES256",
                                                      "ES384", "ES512", "EdDSA"};
    if (alg_name == nullptr) {
      return reject("token-invalid-algorithm",
                    "the header names no alg; RS256, RS384 or RS512 only");
    }
    const auto* const known = std::ranges::find(kKnown, std::string_view(*alg_name));
    return reject("token-invalid-algorithm",
                  known != kKnown.end()
                      ? fmt::format("alg {} is not accepted; RS256, RS384 or RS512 only", *known)
                      : std::string("an unknown alg; RS256, RS384 or RS512 only"));
  }
  if (const auto* typ = header->as_object().if_contains("typ");
      typ != nullptr && !(typ->is_string() && typ->as_string() == "JWT")) {
    return reject("token-invalid", "the header's typ is not JWT");
  }
  if (header->as_object().contains("crit")) {
    return reject("token-invalid", "the header names critical extensions (crit), none understood");
  }

  // 2. The signature, before any claim is trusted.
  const auto signature = decode_base64url(signature_part, decoded, header_text->size());
  if (!signature) return reject("token-invalid", "the signature is not base64url");
  const auto payload_text =
      decode_base64url(payload_part, decoded, header_text->size() + signature->size());
  if (!payload_text) return reject("token-invalid", "the payload is not base64url");
  const auto index = static_cast<std::size_t>(algorithm - kAlgorithms.begin());
  if (!impl_->signature_holds(index, token.substr(0, second_dot), *signature)) {
    return reject("token-invalid-signature",
                  "the signature does not match this instance's public key; was the token "
                  "issued by another Clerk instance or changed after signing?");
  }

  // 3. The claims.
  const auto payload = icp::detail::parse_json(*payload_text, &memory);
  if (!payload || !payload->is_object()) {
    return reject("token-invalid", "the payload is not a JSON object with unique keys");
  }
  const auto& claims = payload->as_object();
  const double now = impl_->now_ms();
  const double skew = static_cast<double>(
      std::chrono::duration_cast<std::chrono::milliseconds>(impl_->options.clock_skew).count());

  const auto exp = numeric_date_ms(claims, "exp");
  if (!exp) return exp.error();
  if (!*exp) return reject("token-invalid", "the exp claim is missing");
  if (**exp <= now - skew) {
    return reject("token-expired", fmt::format("the token expired at {} (Unix seconds); get a "
                                               "fresh session token and retry",
                                               format_seconds(**exp)));
  }
  const auto nbf = numeric_date_ms(claims, "nbf");
  if (!nbf) return nbf.error();
  if (*nbf && **nbf > now + skew) {
    return reject("token-not-active-yet",
                  fmt::format("the token is valid from {} (Unix seconds); check this server's "
                              "clock",
                              format_seconds(**nbf)));
  }
  const auto iat = numeric_date_ms(claims, "iat");
  if (!iat) return iat.error();
  if (*iat && **iat > now + skew) {
    return reject("token-iat-in-the-future",
                  fmt::format("the token was issued at {} (Unix seconds), in the future; check "
                              "this server's clock",
                              format_seconds(**iat)));
  }

  const auto* sub = claims.if_contains("sub");
  if (sub == nullptr || !sub->is_string() || sub->as_string().empty()) {
    return reject("token-missing-subject", "the token names no user (sub)");
  }
  auto allowed = [&](const char* claim, const std::vector<std::string>& list) {
    if (list.empty()) return true;
    const auto* value = claims.if_contains(claim);
    return value != nullptr && value->is_string() &&
           std::ranges::find(list, std::string_view(value->as_string())) != list.end();
  };
  if (!allowed("azp", impl_->options.authorized_parties)) {
    return reject("token-invalid-authorized-parties",
                  "the token was requested by an origin (azp) this server does not accept");
  }
  if (!allowed("iss", impl_->options.issuers)) {
    return reject("token-invalid-issuer", "the token's issuer (iss) is not accepted here");
  }
  if (impl_->options.reject_pending_sessions) {
    if (const auto* sts = claims.if_contains("sts");
        sts != nullptr && sts->is_string() && sts->as_string() == "pending") {
      return reject("token-session-pending",
                    "the session has tasks to complete before it may call this API");
    }
  }
  auto organization = active_organization(claims);
  if (!organization) return std::move(organization).error();
  std::string user_id(sub->as_string());
  return impl_->is_admin(claims) ? AuthContext::admin(std::move(user_id), std::move(*organization))
                                 : AuthContext::user(std::move(user_id), std::move(*organization));
}

Result<std::string> read_key_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{Errc::bad_request, fmt::format("cannot read the Clerk key file {}", path)};
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

Result<std::string> key_from_environment(const char* variable) {
  // Read when configuring; nothing in this library sets the environment.
  const char* value = std::getenv(variable);  // NOLINT(concurrency-mt-unsafe)
  if (value == nullptr || *value == '\0') {
    return Error{Errc::bad_request,
                 fmt::format("the environment variable {} is not set", variable)};
  }
  return std::string(value);
}

}  // namespace icp::clerk
