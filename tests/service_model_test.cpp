// Property-style test: random sequences of operations by random callers of
// three organizations, checked against a small reference model of
// the API's rules (docs/api.md); after every step the store holds exactly the model,
// organization by organization.
//
// The seed is printed with any failure; rerun one with ICP_MODEL_SEED=<seed>.
#include <icp/etag.hpp>
#include <icp/id.hpp>
#include <icp/service.hpp>

#include "test_stores.hpp"

#include <boost/json.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <random>

namespace {

using icp::AuthContext;
using icp::Errc;
using icp::Icp;

// Fewer under sanitizers, which run it 5-20x slower: the store is compared
// with the model after every step, so the cost grows with steps squared.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr int kSteps = 800;
#else
constexpr int kSteps = 2500;
#endif
const std::vector<std::string> kUsers{"user_1", "user_2", "user_3", "user_4"};
// "" is no organization; the same user ids appear in each.
const std::vector<std::string> kOrganizations{"", "org_a", "org_b"};

std::uint64_t seed_from_environment() {
  if (const char* seed = std::getenv("ICP_MODEL_SEED")) return std::strtoull(seed, nullptr, 10);
  return 20261127;
}

/// The reference: what is stored, and who may do what with it.
class Model {
 public:
  /// By (organization, id).
  std::map<std::pair<std::string, std::string>, Icp> icps;

  [[nodiscard]] static std::pair<std::string, std::string> key(const AuthContext& caller,
                                                               std::string_view id) {
    return {std::string(caller.organization()), std::string(id)};
  }

  [[nodiscard]] static bool allowed(const Icp& icp, const AuthContext& caller) {
    return caller.is_admin() ||
           std::ranges::find(icp.user_ids, caller.user_id()) != icp.user_ids.end();
  }

  /// The error Get, Update and Delete must give before looking at anything
  /// else, or nullopt when the caller may go on.
  [[nodiscard]] std::optional<Errc> access_error(const std::string& id,
                                                 const AuthContext& caller) const {
    if (!caller.is_authenticated()) return Errc::unauthorized;
    const auto canonical = icp::canonical_icp_id(id);
    // Another organization's ICP is missing, whoever asks.
    if (!canonical || !icps.contains(key(caller, *canonical))) return Errc::not_found;
    if (!allowed(icps.at(key(caller, *canonical)), caller)) return Errc::forbidden;
    return std::nullopt;
  }

  /// The ids a full listing must show, in order.
  [[nodiscard]] std::vector<std::string> listing(const AuthContext& caller, bool all) const {
    std::vector<const Icp*> shown;
    for (const auto& [key, icp] : icps) {
      if (key.first != caller.organization()) continue;
      if (all || std::ranges::find(icp.user_ids, caller.user_id()) != icp.user_ids.end()) {
        shown.push_back(&icp);
      }
    }
    std::ranges::sort(shown, [](const Icp* a, const Icp* b) {
      return a->created_at != b->created_at ? a->created_at > b->created_at : a->id < b->id;
    });
    std::vector<std::string> ids;
    ids.reserve(shown.size());
    for (const auto* icp : shown) ids.push_back(icp->id);
    return ids;
  }
};

/// Checks that `result` failed with `expected` when the model expects an
/// error; true when it expects success (the caller then checks the value).
template <class Result>
bool succeeds_as_modelled(const Result& result, std::optional<Errc> expected) {
  if (expected) {
    REQUIRE_FALSE(result.has_value());
    REQUIRE(result.error().code == *expected);
    return false;
  }
  REQUIRE(result.has_value());
  return true;
}

class Runner {
 public:
  Runner(std::shared_ptr<icp::IcpStore> store, std::uint64_t seed)
      : random_(seed),
        store_(store),
        service_(std::move(store), {.clock = [this] { return now_; }}) {}

  void step(int number) {
    now_ += std::chrono::milliseconds{pick(3)};  // 0 ms sometimes: createdAt ties
    const auto caller = random_caller();
    current_organization_ = caller.organization();
    const auto operation = pick(10);
    INFO("step " << number << ", caller " << describe(caller));
    if (operation < 2) {
      create(caller);
    } else if (operation < 5) {
      get(caller);
    } else if (operation < 7) {
      update(caller);
    } else if (operation < 8) {
      remove(caller);
    } else {
      list(caller);
    }
    store_holds_the_model();
  }

  [[nodiscard]] const Model& model() const { return model_; }

 private:
  /// Nothing of another organization was returned or changed: each
  /// organization's ICPs in the store are exactly the model's.
  void store_holds_the_model() {
    // By (id, revision): every write makes a new revision, so equal pairs
    // mean nothing else changed. One assertion per organization keeps it fast.
    using Written = std::vector<std::pair<std::string, std::uint64_t>>;
    for (const auto& organization : kOrganizations) {
      INFO("organization \"" << organization << "\"");
      const auto stored = store_->list({.limit = 10'000, .organization = organization});
      REQUIRE(stored.has_value());
      Written in_store;
      bool all_of_it = true;
      for (const auto& icp : *stored) {
        in_store.emplace_back(icp.id, icp.revision);
        all_of_it = all_of_it && icp.organization == organization;
      }
      Written in_model;
      for (const auto& [key, icp] : model_.icps) {
        if (key.first == organization) in_model.emplace_back(icp.id, icp.revision);
      }
      std::ranges::sort(in_store);
      REQUIRE(all_of_it);
      REQUIRE(in_store == in_model);
    }
  }

  std::size_t pick(std::size_t n) {
    return std::uniform_int_distribution<std::size_t>(0, n - 1)(random_);
  }
  bool chance(int percent) { return static_cast<int>(pick(100)) < percent; }

  static std::string describe(const AuthContext& caller) {
    if (!caller.is_authenticated()) return "anonymous";
    return fmt::format("{}{} in \"{}\"", caller.user_id(), caller.is_admin() ? " (admin)" : "",
                       caller.organization());
  }

  AuthContext random_caller() {
    if (chance(8)) return AuthContext::anonymous();
    const auto& user = kUsers[pick(kUsers.size())];
    const auto& organization = kOrganizations[pick(kOrganizations.size())];
    return chance(12) ? AuthContext::admin(user, organization)
                      : AuthContext::user(user, organization);
  }

  std::vector<std::string> random_users() {
    std::vector<std::string> users;
    for (const auto& user : kUsers) {
      if (chance(35)) users.push_back(user);
    }
    return users;
  }

  /// A known id of any organization (in any letter case), an unknown UUID,
  /// or not a UUID at all.
  std::string random_id() {
    const auto roll = pick(10);
    if (roll < 7 && !model_.icps.empty()) {
      auto it = model_.icps.begin();
      std::advance(it, static_cast<std::ptrdiff_t>(pick(model_.icps.size())));
      std::string id = it->first.second;
      if (chance(20)) std::ranges::transform(id, id.begin(), ::toupper);
      return id;
    }
    if (roll < 9) return icp::new_icp_id();
    return "not-a-uuid";
  }

  void create(const AuthContext& caller) {
    boost::json::object body{{"name", fmt::format("ICP {}", pick(1000))},
                             {"leadProviderCriteria", boost::json::array{}}};
    auto users = random_users();
    if (chance(50)) body["userIds"] = boost::json::value_from(users);
    const bool invalid = chance(10);
    if (invalid) body["leadsPerList"] = 0;
    INFO("create " << boost::json::serialize(body));
    const auto result = service_.create(body, caller);
    std::optional<Errc> expected;
    if (!caller.is_authenticated()) {
      expected = Errc::unauthorized;
    } else if (invalid) {
      expected = Errc::bad_request;
    }
    if (!succeeds_as_modelled(result, expected)) return;
    if (!body.contains("userIds")) users.clear();
    if (std::ranges::find(users, caller.user_id()) == users.end()) {
      users.emplace_back(caller.user_id());
    }
    CHECK(result->user_ids == users);
    CHECK(result->name == body["name"].as_string());
    CHECK(result->created_at == now_);
    CHECK(result->updated_at == now_);
    CHECK(result->organization == caller.organization());
    REQUIRE_FALSE(model_.icps.contains(Model::key(caller, result->id)));
    model_.icps.emplace(Model::key(caller, result->id), *result);
  }

  void get(const AuthContext& caller) {
    const auto id = random_id();
    INFO("get " << id);
    const auto result = service_.get(id, caller);
    if (!succeeds_as_modelled(result, model_.access_error(id, caller))) return;
    REQUIRE(*result == model_.icps.at(Model::key(caller, *icp::canonical_icp_id(id))));
  }

  /// An If-Match: none, the current ETag, `*`, or a stale one.
  std::optional<std::string> random_if_match(const std::string& id, bool& stale) {
    stale = false;
    const auto roll = pick(10);
    if (roll < 5) return std::nullopt;
    if (roll < 6) return "*";
    const auto canonical = icp::canonical_icp_id(id);
    // The caller's organization's, or another's of the same id (stale then).
    auto known = model_.icps.end();
    for (const auto& organization : kOrganizations) {
      if (canonical && known == model_.icps.end())
        known = model_.icps.find({organization, *canonical});
    }
    if (roll < 9 && known != model_.icps.end()) {
      stale = known->first.first != current_organization_;
      return icp::etag_of(known->second);
    }
    stale = true;
    return "\"0123456789abcdef\"";
  }

  void update(const AuthContext& caller) {
    const auto id = random_id();
    bool stale = false;
    const auto if_match = random_if_match(id, stale);
    boost::json::object patch;
    if (chance(50)) patch["name"] = fmt::format("Renamed {}", pick(1000));
    if (chance(30)) patch["userIds"] = boost::json::value_from(random_users());
    if (chance(30)) patch["description"] = chance(50) ? boost::json::value(nullptr) : "described";
    bool invalid = chance(10);
    if (invalid) patch["leadsPerList"] = -1;
    // An ICP keeps at least one member.
    if (const auto* users = patch.if_contains("userIds"); users && users->as_array().empty()) {
      invalid = true;
    }
    INFO("update " << id << " " << boost::json::serialize(patch) << " If-Match "
                   << if_match.value_or("(none)"));
    const auto result = service_.update(
        id, patch, caller, if_match ? std::optional(icp::parse_if_match(*if_match)) : std::nullopt);
    auto expected_error = model_.access_error(id, caller);
    if (!expected_error && stale) expected_error = Errc::precondition_failed;
    if (!expected_error && invalid) expected_error = Errc::bad_request;
    if (!succeeds_as_modelled(result, expected_error)) return;
    auto& stored = model_.icps.at(Model::key(caller, result->id));
    auto expected = stored;
    if (patch.contains("name")) expected.name = patch["name"].as_string();
    if (patch.contains("userIds")) {
      expected.user_ids = boost::json::value_to<std::vector<std::string>>(patch["userIds"]);
    }
    if (patch.contains("description")) {
      expected.description.reset();
      if (patch["description"].is_string()) expected.description = "described";
    }
    expected.updated_at = std::max(now_, stored.updated_at + std::chrono::milliseconds{1});
    expected.revision = result->revision;
    CHECK(result->revision != stored.revision);
    REQUIRE(*result == expected);
    stored = *result;
  }

  void remove(const AuthContext& caller) {
    const auto id = random_id();
    bool stale = false;
    const auto if_match = random_if_match(id, stale);
    INFO("delete " << id << " If-Match " << if_match.value_or("(none)"));
    const auto result = service_.remove(
        id, caller, if_match ? std::optional(icp::parse_if_match(*if_match)) : std::nullopt);
    auto expected_error = model_.access_error(id, caller);
    if (!expected_error && stale) expected_error = Errc::precondition_failed;
    if (!succeeds_as_modelled(result, expected_error)) return;
    model_.icps.erase(Model::key(caller, *icp::canonical_icp_id(id)));
  }

  void list(const AuthContext& caller) {
    const bool all = chance(25);
    const std::size_t limit = 1 + pick(7);
    INFO("list " << (all ? "all" : "mine") << " limit " << limit);
    const icp::ListOptions first{.scope = all ? icp::ListScope::all : icp::ListScope::mine,
                                 .limit = limit};
    auto page = service_.list(caller, first);
    if (!caller.is_authenticated()) {
      REQUIRE(page.error().code == Errc::unauthorized);
      return;
    }
    if (all && !caller.is_admin()) {
      REQUIRE(page.error().code == Errc::forbidden);
      return;
    }
    std::vector<std::string> listed;
    for (;;) {
      REQUIRE(page.has_value());
      REQUIRE(page->icps.size() <= limit);
      for (const auto& icp : page->icps) {
        REQUIRE(icp == model_.icps.at(Model::key(caller, icp.id)));
        listed.push_back(icp.id);
      }
      if (!page->next_cursor) break;
      auto next = first;
      next.cursor = *page->next_cursor;
      page = service_.list(caller, next);
    }
    REQUIRE(listed == model_.listing(caller, all));
  }

  std::mt19937_64 random_;
  std::string current_organization_;  ///< the caller's, for random_if_match
  std::shared_ptr<icp::IcpStore> store_;
  icp::Timestamp now_{std::chrono::milliseconds{1'735'689'600'000}};
  Model model_;
  icp::IcpService service_;
};

}  // namespace

TEST_CASE("random operations by random callers follow the model of the rules", "[service][model]") {
  const auto kind = GENERATE(from_range(icp::test::store_kinds()));
  const auto seed = seed_from_environment();
  INFO("store " << kind << ", seed " << seed << " (rerun with ICP_MODEL_SEED=" << seed << ")");
  const icp::test::TempDir dir;
  Runner runner(icp::test::make_store(kind, dir), seed);
  for (int step = 0; step < kSteps; ++step) runner.step(step);
  // The walk did reach interesting states.
  CHECK(runner.model().icps.size() > 10);
}
