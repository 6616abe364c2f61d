// libFuzzer target: any request at the HTTP adapter, from a signed-in user,
// an admin, a stranger or nobody, over a fresh memory store holding alice's
// ICP and bob's ICP. Every answer must keep these (abort, naming the one
// broken, otherwise):
//   status    the status is in 200..499: nothing a client sends is a 5xx;
//   json      a non-empty body is JSON, and a 204 has no body;
//   leak      a 2xx body names no ICP the caller may not see (neither its id,
//             nor a user id listed only on such ICPs) unless the request body
//             itself carried that text, and no ICP it returns is such an ICP;
//   untouched every ICP the caller may not see is stored as before, same
//             revision, same JSON;
//   headers   a 2xx single-ICP answer carries an ETag, a 201 a Location;
//   caller    the authenticator accepts a caller only for the one
//             Authorization field carrying that caller's token;
//   route     a target without '?' or '#' routes as it does with an empty
//             query (plain targets are matched as text, others by Boost.URL).
// "May see" is the access rule: a member or an admin; nobody without valid
// credentials. handle() must not throw: nothing here catches.
//
// The input is text, one field a line ('\n'; a '\r' stays part of the line):
//   line 1    byte 0 picks who calls with a harness-made
//             `Authorization: Bearer <token>`: a alice, b bob, r an admin
//             (root), g an unknown token, n no header; any other byte its
//             value mod 5 in that order. Byte 1 `c` conceals existence
//             (ServiceOptions::conceal_existence); anything else does not.
//   line 2    the method: a line of one byte picks GET, POST, PATCH, DELETE,
//             PUT, OPTIONS by its value mod 6; any other line is the method
//             as it is.
//   line 3    the request target, as it is.
//   lines 4.. header fields up to the first empty line: `Name: value`, the
//             value after the first ':' without leading spaces and tabs; a
//             line without ':' is a field with that name and an empty value.
//             Authorization fields pass too (beside the harness's own).
//   the rest  the body, byte for byte (empty when no empty line ends the
//             header fields).
// See fuzz/corpus/http_adapter_fuzz/ for examples. The stored ICPs' ETags are
// "00000000000a11ce" (alice's) and "0000000000000b0b" (bob's).
#include <icp/http.hpp>
#include <icp/json.hpp>
#include <icp/model.hpp>
#include <icp/service.hpp>
#include <icp/store.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace {

struct User {
  std::string_view token;
  std::string_view user_id;
};

// Who may call; index 3 is a token nobody issued, index 4 sends none.
constexpr std::array<User, 3> kUsers{{
    {"tok_alice", "user_alice"},
    {"tok_bob", "user_bob"},
    {"tok_admin", "user_root"},
}};
constexpr std::string_view kTokensJson =
    R"({"tok_alice":{"userId":"user_alice"},"tok_bob":{"userId":"user_bob"},)"
    R"("tok_admin":{"userId":"user_root","admin":true}})";
constexpr std::string_view kGarbageToken = "tok_mallory";
constexpr std::string_view kCallerCodes = "abrgn";
constexpr std::size_t kNoToken = 4;

constexpr std::array<std::string_view, 6> kMethods{"GET",    "POST", "PATCH",
                                                   "DELETE", "PUT",  "OPTIONS"};

constexpr std::string_view kAliceIcp =
    R"({"id":"a11ce000-0000-4000-8000-000000000001","name":"Alice's ICP",)"
    R"("description":"Her own","createdAt":"2024-01-15T10:30:00.000Z",)"
    R"("updatedAt":"2024-01-15T10:30:00.000Z","userIds":["user_alice"],"leadsPerList":25,)"
    R"("activeUntil":null,"leadProviderCriteria":[{"provider":"baseProvider","type":"person",)"
    R"("filters":{"job_titles":["CTO"]}}],)"
    R"("customFilterCriteria":[{"type":"maxPeoplePerCompany","value":3}],"crmFilters":null})";
constexpr std::string_view kBobIcp =
    R"({"id":"b0b00000-0000-4000-8000-000000000002","name":"Bob's ICP",)"
    R"("description":null,"createdAt":"2024-02-20T09:00:00.000Z",)"
    R"("updatedAt":"2024-02-21T09:00:00.000Z","userIds":["user_bob"],"leadsPerList":10,)"
    R"("activeUntil":"2030-01-01T00:00:00.000Z","leadProviderCriteria":[{"provider":"other",)"
    R"("type":"company","filters":{}}],"customFilterCriteria":[],"crmFilters":{"crm":"x"}})";
constexpr std::uint64_t kAliceRevision = 0xa11ce;
constexpr std::uint64_t kBobRevision = 0xb0b;

[[noreturn]] void fail(std::string_view invariant, std::string_view what,
                       const icp::http::Request& request, const icp::http::Response* response) {
  fmt::print(stderr, "http_adapter_fuzz: invariant '{}' violated: {}\n", invariant, what);
  fmt::print(stderr, "  request: {} {} ({} header fields, {} body bytes)\n", request.method,
             request.target, request.headers.size(), request.body.size());
  if (response != nullptr) {
    fmt::print(stderr, "  response: {} {}\n", response->status,
               std::string_view(response->body).substr(0, 2000));
  }
  std::abort();
}

icp::Icp stored_icp(std::string_view json, std::uint64_t revision) {
  auto icp = icp::parse_icp(json);
  if (!icp) {
    fmt::print(stderr, "http_adapter_fuzz: a fixture ICP does not parse: {}\n",
               icp.error().message);
    std::abort();
  }
  icp->revision = revision;
  return *icp;
}

/// What never changes between runs: the authenticator (immutable) and the
/// ICPs every run's store starts with.
struct Fixture {
  std::shared_ptr<icp::http::StaticTokenAuthenticator> authenticator;
  std::array<icp::Icp, 2> icps{stored_icp(kAliceIcp, kAliceRevision),
                               stored_icp(kBobIcp, kBobRevision)};

  Fixture() {
    auto made = icp::http::StaticTokenAuthenticator::from_json(kTokensJson);
    if (!made) {
      fmt::print(stderr, "http_adapter_fuzz: the tokens do not load: {}\n", made.error().message);
      std::abort();
    }
    authenticator = *made;
  }
};

/// The text up to the next '\n' (or all of it), taken off the front of `rest`.
std::string_view take_line(std::string_view& rest) {
  const auto end = rest.find('\n');
  const auto line = rest.substr(0, end);
  rest.remove_prefix(end == std::string_view::npos ? rest.size() : end + 1);
  return line;
}

/// Every string and key inside a JSON value, each followed by a NUL: the
/// text a request body could have put into an answer, escapes decoded.
void collect_strings(const boost::json::value& value, std::string& out) {
  if (const auto* text = value.if_string()) {
    out.append(text->data(), text->size()).push_back('\0');
  } else if (const auto* array = value.if_array()) {
    for (const auto& element : *array) collect_strings(element, out);
  } else if (const auto* object = value.if_object()) {
    for (const auto& member : *object) {
      out.append(member.key()).push_back('\0');
      collect_strings(member.value(), out);
    }
  }
}

bool contains(std::string_view text, std::string_view part) {
  return text.find(part) != std::string_view::npos;
}

const icp::Icp* find_icp(const std::vector<icp::Icp>& icps, std::string_view id) {
  const auto found = std::ranges::find(icps, id, &icp::Icp::id);
  return found == icps.end() ? nullptr : &*found;
}

std::vector<icp::Icp> everything(icp::IcpStore& store, const icp::http::Request& request) {
  auto listed = store.list(icp::ListIcpsRequest{.limit = 1000});
  if (!listed) fail("untouched", "the memory store cannot list", request, nullptr);
  return std::move(*listed);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const Fixture fixture;
  // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast): libFuzzer gives bytes
  std::string_view rest(reinterpret_cast<const char*>(data), size);

  // Decode the request.
  const auto options = take_line(rest);
  std::size_t caller_index = 0;
  if (!options.empty()) {
    const auto code = kCallerCodes.find(options[0]);
    caller_index = code != std::string_view::npos
                       ? code
                       : static_cast<unsigned char>(options[0]) % kCallerCodes.size();
  }
  const bool conceal = options.size() > 1 && options[1] == 'c';
  icp::http::Request request;
  request.method = take_line(rest);
  if (request.method.size() == 1) {
    request.method = kMethods[static_cast<unsigned char>(request.method[0]) % kMethods.size()];
  }
  request.target = take_line(rest);
  while (!rest.empty()) {
    const auto line = take_line(rest);
    if (line.empty()) break;
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) {
      request.headers.emplace_back(line, std::string_view{});
      continue;
    }
    auto value = line.substr(colon + 1);
    value.remove_prefix(std::min(value.find_first_not_of(" \t"), value.size()));
    request.headers.emplace_back(line.substr(0, colon), value);
  }
  request.body = rest;
  std::string authorization;
  if (caller_index != kNoToken) {
    authorization = "Bearer ";
    authorization += caller_index < kUsers.size() ? kUsers[caller_index].token : kGarbageToken;
    request.headers.emplace_back("Authorization", authorization);
  }

  // A fresh state.
  const auto store = icp::make_memory_store();
  if (!store->write({.icps = fixture.icps, .mode = icp::WriteMode::insert})) {
    fail("untouched", "the fixture ICPs cannot be written", request, nullptr);
  }
  const icp::http::Adapter adapter(icp::IcpService(store, {.conceal_existence = conceal}),
                                   fixture.authenticator);

  // Who is calling, as the authenticator sees it, and what they may not see.
  const auto caller = fixture.authenticator->authenticate(request);
  if (caller) {
    const auto* const user = std::ranges::find(kUsers, caller->user_id(), &User::user_id);
    const auto fields = request.header_values("Authorization");
    if (user == kUsers.end() || fields.size() != 1 || !contains(fields.front(), user->token)) {
      fail("caller", "a caller accepted without its token in the one Authorization field", request,
           nullptr);
    }
  }
  const auto before = everything(*store, request);
  std::vector<const icp::Icp*> hidden;
  std::vector<std::string_view> hidden_users;
  for (const auto& icp : before) {
    const bool visible =
        caller && (caller->is_admin() ||
                   std::ranges::find(icp.user_ids, caller->user_id()) != icp.user_ids.end());
    if (visible) continue;
    hidden.push_back(&icp);
    for (const auto& user_id : icp.user_ids) {
      if (!caller || user_id != caller->user_id()) hidden_users.emplace_back(user_id);
    }
  }

  if (request.target.find_first_of("?#") == std::string_view::npos &&
      adapter.route(request.target) != adapter.route(std::string(request.target) + "?")) {
    fail("route", "the target routes otherwise with an empty query", request, nullptr);
  }

  const auto response = adapter.handle(request);

  // status
  if (response.status < 200 || response.status > 499) {
    fail("status", "a status outside 200..499", request, &response);
  }
  // json
  boost::json::value body;
  if (!response.body.empty()) {
    boost::system::error_code ec;
    body = boost::json::parse(response.body, ec);
    if (ec) fail("json", "the body is not JSON", request, &response);
  }
  if (response.status == 204 && !response.body.empty()) {
    fail("json", "a 204 with a body", request, &response);
  }
  const bool success = response.status < 300;
  // leak
  if (success) {
    std::string echoed;  // what the request body could have put in the answer
    boost::system::error_code ec;
    const auto sent = boost::json::parse(request.body, ec);
    if (!ec) collect_strings(sent, echoed);
    auto named = [&](std::string_view text) {
      return contains(response.body, text) && !contains(request.body, text) &&
             !contains(echoed, text);
    };
    for (const auto* icp : hidden) {
      if (named(icp->id)) fail("leak", "a 2xx names a hidden ICP's id", request, &response);
    }
    for (const auto user_id : hidden_users) {
      if (named(user_id)) fail("leak", "a 2xx names a hidden user id", request, &response);
    }
    auto check_returned = [&](const boost::json::value& returned) {
      const auto* object = returned.if_object();
      const auto* id = object != nullptr ? object->if_contains("id") : nullptr;
      if (id == nullptr || !id->is_string()) return;
      const std::string_view text = id->get_string();
      if (std::ranges::any_of(hidden, [&](const icp::Icp* icp) { return icp->id == text; })) {
        fail("leak", "a 2xx returns a hidden ICP", request, &response);
      }
    };
    if (const auto* array = body.if_array()) {
      for (const auto& element : *array) check_returned(element);
    } else {
      check_returned(body);
    }
  }
  // untouched
  const auto after = everything(*store, request);
  for (const auto* icp : hidden) {
    const auto* now = find_icp(after, icp->id);
    if (now == nullptr) fail("untouched", "a hidden ICP is gone", request, &response);
    if (now->revision != icp->revision || icp::to_json(*now) != icp::to_json(*icp)) {
      fail("untouched", "a hidden ICP changed", request, &response);
    }
  }
  // headers
  if (success && body.is_object() && response.header("ETag").empty()) {
    fail("headers", "a single-ICP 2xx without an ETag", request, &response);
  }
  if (response.status == 201 && response.header("Location").empty()) {
    fail("headers", "a 201 without a Location", request, &response);
  }
  return 0;
}
