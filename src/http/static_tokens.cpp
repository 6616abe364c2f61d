#include <icp/http/authenticator.hpp>
#include <icp/json.hpp>

#include "util/ascii.hpp"
#include "util/small_file.hpp"

#include <boost/json.hpp>
#include <fmt/format.h>
#include <fmt/std.h>

#include <algorithm>
#include <fstream>
#include <iterator>

namespace icp::http {

namespace {

using icp::detail::equals_ignoring_case;

Error unauthorized(std::string reason) { return Error{Errc::unauthorized, std::move(reason)}; }

Error bad_tokens(std::size_t index, std::string_view problem) {
  // Tokens are secrets: problems name the entry by position, never by token.
  return Error{Errc::bad_request, fmt::format("tokens: entry #{}: {}", index + 1, problem)};
}

}  // namespace

Result<std::string_view> bearer_token(const Request& request) {
  const auto values = request.header_values("Authorization");
  if (values.empty()) return unauthorized("Missing Authorization header: send 'Bearer <token>'");
  if (values.size() > 1) return unauthorized("More than one Authorization header");
  std::string_view value = values.front();
  const auto space = value.find(' ');
  if (space == std::string_view::npos || !equals_ignoring_case(value.substr(0, space), "Bearer")) {
    return unauthorized("The Authorization header must use the Bearer scheme");
  }
  value.remove_prefix(space);
  const auto first = value.find_first_not_of(" \t");
  const auto last = value.find_last_not_of(" \t");
  if (first == std::string_view::npos) return unauthorized("The bearer token is empty");
  const auto token = value.substr(first, last - first + 1);
  const bool one_word = std::ranges::all_of(token, [](char c) { return c > ' ' && c < 0x7f; });
  if (!one_word) return unauthorized("The bearer token must be one word of visible ASCII");
  return token;
}

StaticTokenAuthenticator::StaticTokenAuthenticator(
    std::vector<std::pair<std::string, AuthContext>> tokens)
    : tokens_(std::move(tokens)) {
  std::ranges::sort(tokens_, {}, &std::pair<std::string, AuthContext>::first);
}

Result<std::shared_ptr<StaticTokenAuthenticator>> StaticTokenAuthenticator::from_json(
    std::string_view json) {
  auto parsed = parse_json(json);
  if (!parsed) {
    // A finding's path (a duplicate key, U+0000, a number out of range)
    // begins with a key, and keys are the tokens: only what was found is told.
    const auto& details = parsed.error().details;
    if (details.empty() || details.front().path.empty()) {
      return Error{Errc::bad_request, fmt::format("tokens: {}", parsed.error().message)};
    }
    const auto& found = details.front().message;
    return Error{Errc::bad_request,
                 found == "duplicate key"
                     ? std::string("tokens: a token, or a field of one, appears twice (duplicate "
                                   "key)")
                     : fmt::format("tokens: a value in the entry of a token {} (the entry is not "
                                   "named: its key is the token)",
                                   found)};
  }
  const auto* object = parsed->if_object();
  if (object == nullptr) {
    return Error{Errc::bad_request, R"(tokens: expected an object {"<token>": {"userId": ...}})"};
  }
  if (object->empty()) {
    return Error{Errc::bad_request, "tokens: no tokens: nobody could sign in"};
  }
  std::vector<std::pair<std::string, AuthContext>> tokens;
  std::size_t index = 0;
  for (const auto& [token, entry] : *object) {
    if (token.empty()) return bad_tokens(index, "the token is empty");
    // bearer_token() accepts one word of visible ASCII: any other token
    // could never be presented.
    if (!std::ranges::all_of(token, [](char c) { return c > ' ' && c < 0x7f; })) {
      return bad_tokens(index, "a token must be one word of visible ASCII (no spaces)");
    }
    const auto* fields = entry.if_object();
    if (fields == nullptr) return bad_tokens(index, "expected an object");
    const auto* user_id = fields->if_contains("userId");
    if (user_id == nullptr || !user_id->is_string() || !is_valid_user_id(user_id->get_string())) {
      return bad_tokens(index, fmt::format("userId must be a string of 1 to {} bytes without "
                                           "control characters",
                                           kMaxUserIdBytes));
    }
    const auto* admin = fields->if_contains("admin");
    if (admin != nullptr && !admin->is_bool()) return bad_tokens(index, "admin must be a boolean");
    const auto* organization = fields->if_contains("org");
    if (organization != nullptr &&
        (!organization->is_string() || !is_valid_organization(organization->get_string()))) {
      return bad_tokens(index, fmt::format("org must be 1 to {} characters of visible ASCII",
                                           kMaxOrganizationBytes));
    }
    for (const auto& field : *fields) {
      if (field.key() != "userId" && field.key() != "admin" && field.key() != "org") {
        return bad_tokens(index, fmt::format("unknown field \"{}\"", field.key()));
      }
    }
    std::string id(user_id->get_string());
    std::string in(organization != nullptr ? std::string_view(organization->get_string())
                                           : std::string_view());
    tokens.emplace_back(std::string(token), admin != nullptr && admin->get_bool()
                                                ? AuthContext::admin(std::move(id), std::move(in))
                                                : AuthContext::user(std::move(id), std::move(in)));
    ++index;
  }
  return std::make_shared<StaticTokenAuthenticator>(std::move(tokens));
}

Result<std::shared_ptr<StaticTokenAuthenticator>> StaticTokenAuthenticator::from_file(
    const std::filesystem::path& path) {
  const auto text = detail::read_small_file(path, kMaxTokensFileBytes, "tokens file");
  if (!text) return text.error();
  auto authenticator = from_json(*text);
  if (!authenticator) {
    return Error{Errc::bad_request, fmt::format("{}: {}", path, authenticator.error().message)};
  }
  return authenticator;
}

Result<AuthContext> StaticTokenAuthenticator::authenticate(const Request& request) const {
  const auto token = bearer_token(request);
  if (!token) return token.error();
  const auto found = std::ranges::lower_bound(tokens_, *token, std::less<>{},
                                              &std::pair<std::string, AuthContext>::first);
  if (found == tokens_.end() || found->first != *token) {
    return unauthorized("The bearer token is not valid");
  }
  return found->second;
}

}  // namespace icp::http
