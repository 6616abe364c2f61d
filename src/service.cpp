#include <icp/access.hpp>
#include <icp/etag.hpp>
#include <icp/id.hpp>
#include <icp/json.hpp>
#include <icp/service.hpp>

#include "service/body_rules.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <random>
#include <thread>
#include <utility>

namespace icp {

namespace {

/// Waits a random while up to the policy's cap after `lost` lost attempts, so
/// writers that keep colliding on one ICP fall out of step (with a networked
/// store a loser could otherwise re-read just before every winner's commit).
void back_off(const RetryPolicy& policy, int lost) {
  thread_local std::minstd_rand random(std::random_device{}());
  std::uniform_int_distribution<std::int64_t> wait_us(0, policy.backoff_cap(lost).count());
  const std::chrono::microseconds wait{wait_us(random)};
  if (policy.sleep) {
    policy.sleep(wait);
  } else {
    std::this_thread::sleep_for(wait);
  }
}

/// Signed in, with a user id and organization every store can key on: a
/// caller built by hand (AuthContext::user) is held to the rules the
/// shipped authenticators apply to credentials.
bool signed_in(const AuthContext& caller) {
  return caller.is_authenticated() && is_valid_user_id(caller.user_id()) &&
         (caller.organization().empty() || is_valid_organization(caller.organization()));
}

Error unauthorized() {
  return Error{Errc::unauthorized, "Sign in to access ICPs: the request carries no valid session"};
}

Error not_found(std::string_view id) {
  return Error{Errc::not_found, fmt::format("ICP not found: {}", id)};
}

Error forbidden() { return Error{Errc::forbidden, "You do not have access to this ICP"}; }

Error bad_parameter(std::string_view name, std::string message) {
  return Error{Errc::bad_request,
               fmt::format("{}: {}", name, message),
               {ErrorDetail{std::string(name), message}}};
}

/// Runs one store call; whatever it throws becomes `internal`. The message
/// names the operation, never the exception's text, which may hold SQL.
template <class Call>
auto call_store(std::string_view operation, Call call) -> decltype(call()) {
  try {
    return call();
  } catch (...) {
    return Error{Errc::internal, fmt::format("The ICP store failed to {}", operation)};
  }
}

/// `precondition_failed` unless If-Match (when given) names the current revision.
std::optional<Error> check_if_match(const Icp& current, const std::optional<IfMatch>& if_match) {
  if (!if_match || if_match->matches(current.revision)) return std::nullopt;
  return Error{Errc::precondition_failed,
               fmt::format("ICP {} is at revision {}, not the one If-Match names; read it again",
                           current.id, etag_of(current))};
}

/// `bad_request` when `icp` would take more than `max_bytes` as JSON.
std::optional<Error> check_size(const Icp& icp, std::size_t max_bytes) {
  // listed_bytes is never less than the JSON's length and costs no writing:
  // only an ICP it puts past the limit is written out to be measured.
  if (listed_bytes(icp) <= max_bytes) return std::nullopt;
  const auto bytes = to_json(icp).size();
  if (bytes <= max_bytes) return std::nullopt;
  return Error{Errc::bad_request,
               fmt::format("The ICP would take {} bytes as JSON, more than the {} allowed; "
                           "make it smaller",
                           bytes, max_bytes)};
}

/// Runs `attempt(lost)` (read, check, compare-and-swap write) again while
/// its write loses to another writer (the attempt then sets `lost`), backing
/// off between attempts; `conflict` saying `gave_up` after
/// `policy.max_attempts`. Only when the caller named no revision (no
/// If-Match, or `*`, which any revision meets): else losing is the answer.
template <class Attempt>
auto retry_lost_writes(const RetryPolicy& policy, const std::optional<IfMatch>& if_match,
                       std::string_view gave_up, Attempt attempt) {
  const bool retries = !if_match || if_match->is_any();
  for (int tried = 1;; ++tried) {
    bool lost = false;
    auto result = attempt(lost);
    if (!lost || !retries) return result;
    if (tried >= policy.max_attempts) {
      return decltype(result)(Error{Errc::conflict, std::string(gave_up)});
    }
    back_off(policy, tried - 1);
  }
}

/// The position a list_cursor_after() cursor names. Clients must treat the
/// cursor as opaque; it is validated strictly when it comes back.
std::optional<ListPosition> decode_cursor(std::string_view cursor) {
  const auto dot = cursor.find('.');
  if (dot == std::string_view::npos) return std::nullopt;
  std::int64_t ms = 0;
  const auto [end, ec] = std::from_chars(cursor.data(), cursor.data() + dot, ms);
  if (ec != std::errc{} || end != cursor.data() + dot) return std::nullopt;
  const auto id = cursor.substr(dot + 1);
  if (canonical_icp_id(id) != id) return std::nullopt;
  return ListPosition{Timestamp{std::chrono::milliseconds{ms}}, std::string(id)};
}

}  // namespace

// The cursor is the last listed ICP's position, `<createdAt ms>.<id>`.
std::string list_cursor_after(const Icp& last) {
  return fmt::format("{}.{}", last.created_at.time_since_epoch().count(), last.id);
}

Timestamp system_now() {
  return std::chrono::floor<std::chrono::milliseconds>(std::chrono::system_clock::now());
}

IcpService::IcpService(std::shared_ptr<IcpStore> store, ServiceOptions options)
    : store_(std::move(store)), options_(std::move(options)) {}

std::chrono::microseconds RetryPolicy::backoff_cap(int lost) const noexcept {
  // Doubling stops once it passes the maximum; the shift cannot overflow.
  auto cap = initial_backoff;
  for (int i = 0; i < lost && cap < max_backoff; ++i) cap *= 2;
  return std::min(cap, max_backoff);
}

std::chrono::microseconds RetryPolicy::worst_case_delay() const noexcept {
  std::chrono::microseconds total{0};
  for (int lost = 0; lost + 1 < max_attempts; ++lost) total += backoff_cap(lost);
  return total;
}

Timestamp IcpService::now() const { return options_.clock ? options_.clock() : system_now(); }

Result<Icp> IcpService::load(std::string_view id, const AuthContext& caller,
                             Permission allowed) const {
  if (!signed_in(caller)) return unauthorized();
  const auto canonical_id = canonical_icp_id(id);
  if (!canonical_id) return not_found(id);  // a non-UUID can name no ICP

  // A non-admin may reach only ICPs that list them: the store decides that
  // from its membership index before it reads a document, so that an ICP the
  // caller may not see costs what a missing one does, whatever its size.
  // Only the caller's organization is searched: another's ICP is missing to
  // everyone, admins included, and its id is never confirmed.
  GetIcpRequest request{.id = *canonical_id, .organization = caller.organization()};
  if (!caller.is_admin()) request.member = caller.user_id();
  auto loaded = call_store("read an ICP", [&] { return store_->get(request); });
  if (!loaded) return std::move(loaded).error();
  if (!loaded->has_value()) {
    if (!request.member || options_.conceal_existence) return not_found(*canonical_id);
    // Not listed, or missing: only an answer that reveals existence asks.
    auto exists = call_store("read an ICP", [&] {
      return store_->get(GetIcpRequest{
          .id = *canonical_id, .existence_only = true, .organization = caller.organization()});
    });
    if (!exists) return std::move(exists).error();
    if (!exists->has_value()) return not_found(*canonical_id);
    return forbidden();
  }
  // A store that answered from another organization fails closed, as missing.
  if ((**loaded).organization != caller.organization()) return not_found(*canonical_id);
  // Stores that ignore `member` still get the rules right, if not the timing.
  if (!allowed(**loaded, caller)) {
    if (options_.conceal_existence) return not_found(*canonical_id);
    return forbidden();
  }
  return std::move(**loaded);
}

Result<Icp> IcpService::get(std::string_view id, const AuthContext& caller) const {
  return load(id, caller, can_read);
}

Result<IcpPage> IcpService::list(const AuthContext& caller, const ListOptions& options) const {
  if (!signed_in(caller)) return unauthorized();
  if (options.scope == ListScope::all && !can_list_all(caller)) {
    return Error{Errc::forbidden, "Only admins may list every ICP"};
  }
  if (options.limit == 0 || options.limit > kMaxListLimit) {
    return bad_parameter("limit", fmt::format("must be between 1 and {}", kMaxListLimit));
  }
  // One more than the page tells whether more follow.
  ListIcpsRequest request{.limit = options.limit + 1, .max_bytes = options.max_bytes};
  request.organization = caller.organization();
  if (options.scope == ListScope::mine) request.member = caller.user_id();
  if (!options.cursor.empty()) {
    request.after = decode_cursor(options.cursor);
    if (!request.after) return bad_parameter("cursor", "is not a cursor from a previous page");
  }
  auto icps = call_store("list ICPs", [&] { return store_->list(request); });
  if (!icps) return std::move(icps).error();
  // A store that answered from another organization fails closed.
  if (std::ranges::any_of(
          *icps, [&](const Icp& icp) { return icp.organization != caller.organization(); })) {
    return Error{Errc::internal, "The ICP store listed another organization's ICP"};
  }
  IcpPage page{.icps = std::move(*icps)};
  // The page: up to `limit` ICPs, stopping once they hold `max_bytes` (as
  // the store does); anything the store returned beyond says more follow.
  std::size_t taken = 0;
  std::size_t held = 0;
  while (taken < page.icps.size() && taken < options.limit &&
         (taken == 0 || held < options.max_bytes)) {
    held += listed_bytes(page.icps[taken]);
    ++taken;
  }
  if (taken < page.icps.size()) {
    page.icps.erase(page.icps.begin() + static_cast<std::ptrdiff_t>(taken), page.icps.end());
    page.next_cursor = list_cursor_after(page.icps.back());
  }
  return page;
}

Result<Icp> IcpService::create(const boost::json::object& body, const AuthContext& caller) const {
  if (!signed_in(caller)) return unauthorized();
  auto icp = detail::icp_from_create_body(body, new_icp_id(), now(), caller.user_id());
  if (!icp) return icp;
  icp->organization = std::string(caller.organization());
  if (auto too_big = check_size(*icp, options_.max_icp_bytes)) return *std::move(too_big);
  icp->revision = new_revision();
  const WriteIcpsRequest request{.icps = {&*icp, 1}, .mode = WriteMode::insert};
  // A body built by hand was never parsed: held to what every store keeps.
  if (auto valid = validate(request); !valid) return std::move(valid).error();
  auto written = call_store("create an ICP", [&] { return store_->write(request); });
  if (!written) return std::move(written).error();
  return icp;
}

Result<Icp> IcpService::create(std::string_view body, const AuthContext& caller) const {
  if (!signed_in(caller)) return unauthorized();
  auto parsed = parse_json(body);
  if (!parsed) return std::move(parsed).error();
  if (!parsed->is_object()) return detail::not_an_object();
  return create(parsed->get_object(), caller);
}

Result<Icp> IcpService::update(std::string_view id, const boost::json::object& patch,
                               const AuthContext& caller,
                               const std::optional<IfMatch>& if_match) const {
  auto current = load_for_write(id, caller, can_update, if_match);
  if (!current) return current;
  return merge_and_write(std::move(*current), patch, caller, if_match);
}

Result<Icp> IcpService::update(std::string_view id, std::string_view patch,
                               const AuthContext& caller,
                               const std::optional<IfMatch>& if_match) const {
  // Access first, then the body: a caller without access learns nothing from
  // the body's problems, and costs no parse of a large body.
  auto current = load_for_write(id, caller, can_update, if_match);
  if (!current) return current;
  auto parsed = parse_json(patch);
  if (!parsed) return std::move(parsed).error();
  if (!parsed->is_object()) return detail::not_an_object();
  return merge_and_write(std::move(*current), parsed->get_object(), caller, if_match);
}

Result<Icp> IcpService::load_for_write(std::string_view id, const AuthContext& caller,
                                       Permission allowed,
                                       const std::optional<IfMatch>& if_match) const {
  auto current = load(id, caller, allowed);
  if (!current) return current;
  if (auto failed = check_if_match(*current, if_match)) return *std::move(failed);
  return current;
}

Result<Icp> IcpService::merge_and_write(Icp current, const boost::json::object& patch,
                                        const AuthContext& caller,
                                        const std::optional<IfMatch>& if_match) const {
  bool reload = false;  // the first attempt merges into what the caller's checks read
  return retry_lost_writes(
      options_.write_retry, if_match, "The ICP kept changing under concurrent updates; try again",
      [&](bool& lost) -> Result<Icp> {
        if (std::exchange(reload, true)) {
          // Another writer came first: merge into what it wrote, after
          // checking access again.
          auto reloaded = load_for_write(current.id, caller, can_update, if_match);
          if (!reloaded) return reloaded;
          current = std::move(*reloaded);
        }
        auto updated = detail::icp_from_patch(current, patch, now());
        if (!updated) return updated;
        if (auto too_big = check_size(*updated, options_.max_icp_bytes)) return *std::move(too_big);
        updated->revision = new_revision();
        const WriteIcpsRequest request{.icps = {&*updated, 1},
                                       .mode = WriteMode::replace,
                                       .expected_revision = current.revision};
        if (auto valid = validate(request); !valid) return std::move(valid).error();
        auto written = call_store("update an ICP", [&] { return store_->write(request); });
        if (written) return updated;
        const Errc code = written.error().code;
        if (code == Errc::not_found) return not_found(current.id);  // deleted meanwhile
        lost = code == Errc::precondition_failed;
        return std::move(written).error();
      });
}

Result<void> IcpService::check_update(std::string_view id, const AuthContext& caller,
                                      const std::optional<IfMatch>& if_match) const {
  auto current = load_for_write(id, caller, can_update, if_match);
  if (!current) return std::move(current).error();
  return {};
}

Result<void> IcpService::remove(std::string_view id, const AuthContext& caller,
                                const std::optional<IfMatch>& if_match) const {
  // Each attempt reads again: a changed ICP's members may have changed too.
  return retry_lost_writes(
      options_.write_retry, if_match, "The ICP kept changing while being deleted; try again",
      [&](bool& lost) -> Result<void> {
        auto current = load(id, caller, can_delete);
        if (!current) return std::move(current).error();
        if (auto failed = check_if_match(*current, if_match)) return *std::move(failed);
        auto erased = call_store("delete an ICP", [&] {
          return store_->erase(EraseIcpRequest{.id = current->id,
                                               .expected_revision = current->revision,
                                               .organization = caller.organization()});
        });
        if (!erased) {
          lost = erased.error().code == Errc::precondition_failed;
          return std::move(erased).error();
        }
        if (!*erased) return not_found(current->id);  // deleted meanwhile
        return {};
      });
}

}  // namespace icp
