#include <icp/clerk.hpp>
#include <icp/json.hpp>

#include "clerk/base64url.hpp"
#include "clerk/claims.hpp"
#include "clerk/rsa_verifier.hpp"
#include "json/checked_json.hpp"
#include "util/ascii.hpp"
#include "util/small_file.hpp"

#include <boost/json.hpp>
#include <fmt/format.h>
#include <fmt/std.h>

#include <array>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <mutex>
#include <optional>

namespace icp::clerk {

namespace json = boost::json;

struct ClerkAuthenticator::Impl {
  ClerkOptions options;
  std::unique_ptr<detail::RsaVerifier> verifier;

  [[nodiscard]] double now_ms() const {
    const auto now = options.clock ? options.clock() : std::chrono::system_clock::now();
    return std::chrono::duration<double, std::milli>(now.time_since_epoch()).count();
  }

  /// An organization role without its organization (a signed `o.rol` with
  /// no `o.id`) makes no admin: it would administer the personal space.
  [[nodiscard]] bool is_admin(const json::object& claims, std::string_view organization) const {
    const auto holds = [&](std::string_view path, std::string_view value) {
      if (organization.empty() && detail::organization_scoped(path)) return false;
      return detail::claim_holds(claims, path, value);
    };
    const auto& admin = options.admin;
    return holds(admin.path, admin.value) ||
           std::ranges::any_of(admin.alternatives, [&](const auto& alternative) {
             return holds(alternative.first, alternative.second);
           });
  }
};

ClerkAuthenticator::ClerkAuthenticator(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ClerkAuthenticator::~ClerkAuthenticator() = default;

Result<std::shared_ptr<ClerkAuthenticator>> ClerkAuthenticator::create(ClerkOptions options) {
  auto verifier = detail::RsaVerifier::from_pem(options.public_key_pem);
  if (!verifier) return std::move(verifier).error();
  for (const auto* list : {&options.authorized_parties, &options.issuers}) {
    for (const auto& entry : *list) {
      if (entry.empty()) {
        return Error{Errc::bad_request, "an authorized party or issuer may not be empty"};
      }
    }
  }
  auto impl = std::make_unique<Impl>();
  impl->verifier = std::move(*verifier);
  impl->options = std::move(options);
  impl->options.public_key_pem.clear();  // not kept: nothing to leak later
  // Not make_shared: the constructor is private, so that create() checks every instance.
  return std::shared_ptr<ClerkAuthenticator>(new ClerkAuthenticator(std::move(impl)));
}

Result<AuthContext> ClerkAuthenticator::authenticate(const http::Request& request) const {
  const bool has_authorization = std::ranges::any_of(request.headers, [](const auto& header) {
    return icp::detail::equals_ignoring_case(header.first, "Authorization");
  });
  if (!has_authorization && impl_->options.accept_session_cookie) {
    for (const auto& [name, value] : request.headers) {
      if (!icp::detail::equals_ignoring_case(name, "Cookie")) continue;
      if (auto session = detail::cookie_value(value, "__session")) return verify(*session);
    }
    return detail::reject("token-missing",
                          "send Authorization: Bearer <session token> or the __session cookie");
  }
  const auto token = http::bearer_token(request);
  if (!token) return token.error();
  return verify(*token);
}

Result<AuthContext> ClerkAuthenticator::verify(std::string_view token) const {
  if (token.size() > kMaxTokenBytes) {
    return detail::reject("token-too-large",
                          fmt::format("the token has {} bytes; at most {} are accepted",
                                      token.size(), kMaxTokenBytes));
  }
  const auto first_dot = token.find('.');
  const auto second_dot =
      first_dot == std::string_view::npos ? first_dot : token.find('.', first_dot + 1);
  if (second_dot == std::string_view::npos ||
      token.find('.', second_dot + 1) != std::string_view::npos) {
    return detail::reject("token-invalid", "a JWT has three base64url parts separated by dots");
  }
  const auto header_part = token.substr(0, first_dot);
  if (header_part.size() > kMaxTokenHeaderBytes) {
    return detail::reject("token-invalid",
                          fmt::format("the header part has {} bytes; at most {} are accepted",
                                      header_part.size(), kMaxTokenHeaderBytes));
  }
  const auto payload_part = token.substr(first_dot + 1, second_dot - first_dot - 1);
  const auto signature_part = token.substr(second_dot + 1);

  // 1. The header, and in it the algorithm, before anything else is used.
  // The three parts decode into one buffer, reserved once; views into it
  // stay valid as nothing grows it past the reservation.
  std::string decoded;
  decoded.reserve(token.size() / 4 * 3 + 3);
  const auto header_text = detail::decode_base64url(header_part, decoded, 0);
  if (!header_text) return detail::reject("token-invalid", "the header is not base64url");
  // Header and claims are small: parsed into one buffer on the stack.
  std::array<unsigned char, 4096> buffer;  // NOLINT(cppcoreguidelines-pro-type-member-init)
  json::monotonic_resource memory(buffer.data(), buffer.size());
  const auto header = icp::detail::parse_json(*header_text, &memory);
  if (!header || !header->is_object()) {
    return detail::reject("token-invalid", "the header is not a JSON object with unique keys");
  }
  const auto* alg = header->as_object().if_contains("alg");
  const auto* alg_name = alg != nullptr ? alg->if_string() : nullptr;
  const auto* const algorithm =
      std::ranges::find_if(detail::kRsaAlgorithms, [&](const detail::RsaAlgorithm& candidate) {
        return alg_name != nullptr && *alg_name == candidate.name;
      });
  if (algorithm == detail::kRsaAlgorithms.end()) {
    // Only a registered JWA name is repeated: anything else in the header is
    // the sender's text, and a message never carries the token's.
    constexpr std::array<std::string_view, 11> kKnown{"none",  "HS256", "HS384", "HS512",
                                                      "PS256", "PS384", "PS512", "ES256",
                                                      "ES384", "ES512", "EdDSA"};
    if (alg_name == nullptr) {
      return detail::reject("token-invalid-algorithm",
                            "the header names no alg; RS256, RS384 or RS512 only");
    }
    const auto* const known = std::ranges::find(kKnown, std::string_view(*alg_name));
    return detail::reject(
        "token-invalid-algorithm",
        known != kKnown.end()
            ? fmt::format("alg {} is not accepted; RS256, RS384 or RS512 only", *known)
            : std::string("an unknown alg; RS256, RS384 or RS512 only"));
  }
  if (const auto* typ = header->as_object().if_contains("typ");
      typ != nullptr && !(typ->is_string() && typ->as_string() == "JWT")) {
    return detail::reject("token-invalid", "the header's typ is not JWT");
  }
  if (header->as_object().contains("crit")) {
    return detail::reject("token-invalid",
                          "the header names critical extensions (crit), none understood");
  }

  // 2. The signature, before any claim is trusted.
  const auto signature = detail::decode_base64url(signature_part, decoded, header_text->size());
  if (!signature) return detail::reject("token-invalid", "the signature is not base64url");
  const auto payload_text =
      detail::decode_base64url(payload_part, decoded, header_text->size() + signature->size());
  if (!payload_text) return detail::reject("token-invalid", "the payload is not base64url");
  const auto index = static_cast<std::size_t>(algorithm - detail::kRsaAlgorithms.begin());
  if (!impl_->verifier->signature_holds(index, token.substr(0, second_dot), *signature)) {
    return detail::reject("token-invalid-signature",
                          "the signature does not match this instance's public key; was the token "
                          "issued by another Clerk instance or changed after signing?");
  }

  // 3. The claims.
  const auto payload = icp::detail::parse_json(*payload_text, &memory);
  if (!payload || !payload->is_object()) {
    return detail::reject("token-invalid", "the payload is not a JSON object with unique keys");
  }
  const auto& claims = payload->as_object();
  const double now = impl_->now_ms();
  const double skew = static_cast<double>(
      std::chrono::duration_cast<std::chrono::milliseconds>(impl_->options.clock_skew).count());

  const auto exp = detail::numeric_date_ms(claims, "exp");
  if (!exp) return exp.error();
  if (!*exp) return detail::reject("token-invalid", "the exp claim is missing");
  if (**exp <= now - skew) {
    return detail::reject("token-expired",
                          fmt::format("the token expired at {} (Unix seconds); get a "
                                      "fresh session token and retry",
                                      detail::format_seconds(**exp)));
  }
  const auto nbf = detail::numeric_date_ms(claims, "nbf");
  if (!nbf) return nbf.error();
  if (*nbf && **nbf > now + skew) {
    return detail::reject(
        "token-not-active-yet",
        fmt::format("the token is valid from {} (Unix seconds); check this server's "
                    "clock",
                    detail::format_seconds(**nbf)));
  }
  const auto iat = detail::numeric_date_ms(claims, "iat");
  if (!iat) return iat.error();
  if (*iat && **iat > now + skew) {
    return detail::reject(
        "token-iat-in-the-future",
        fmt::format("the token was issued at {} (Unix seconds), in the future; check "
                    "this server's clock",
                    detail::format_seconds(**iat)));
  }

  const auto* sub = claims.if_contains("sub");
  if (sub == nullptr || !sub->is_string() || sub->as_string().empty()) {
    return detail::reject("token-missing-subject", "the token names no user (sub)");
  }
  if (!is_valid_user_id(sub->as_string())) {
    return detail::reject("token-invalid",
                          fmt::format("the token's user (sub) must be 1 to {} bytes without "
                                      "control characters",
                                      kMaxUserIdBytes));
  }
  auto allowed = [&](const char* claim, const std::vector<std::string>& list) {
    if (list.empty()) return true;
    const auto* value = claims.if_contains(claim);
    return value != nullptr && value->is_string() &&
           std::ranges::find(list, std::string_view(value->as_string())) != list.end();
  };
  if (!allowed("azp", impl_->options.authorized_parties)) {
    return detail::reject("token-invalid-authorized-parties",
                          "the token was requested by an origin (azp) this server does not accept");
  }
  if (!allowed("iss", impl_->options.issuers)) {
    return detail::reject("token-invalid-issuer", "the token's issuer (iss) is not accepted here");
  }
  if (impl_->options.reject_pending_sessions) {
    if (const auto* sts = claims.if_contains("sts");
        sts != nullptr && sts->is_string() && sts->as_string() == "pending") {
      return detail::reject("token-session-pending",
                            "the session has tasks to complete before it may call this API");
    }
  }
  auto organization = detail::active_organization(claims);
  if (!organization) return std::move(organization).error();
  std::string user_id(sub->as_string());
  return impl_->is_admin(claims, *organization)
             ? AuthContext::admin(std::move(user_id), std::move(*organization))
             : AuthContext::user(std::move(user_id), std::move(*organization));
}

Result<std::string> read_key_file(const std::filesystem::path& path) {
  auto key = detail::read_small_file(path, kMaxKeyFileBytes, "Clerk key file");
  if (!key) return Error{Errc::bad_request, std::move(key).error().message};
  return key;
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
