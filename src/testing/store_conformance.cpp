#include <icp/auth.hpp>
#include <icp/id.hpp>
#include <icp/json.hpp>
#include <icp/testing/store_conformance.hpp>

#include "icp_spec_example.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <limits>
#include <set>
#include <thread>
#include <utility>

namespace icp::testing {

namespace {

using namespace std::chrono_literals;

/// Collects failed checks of one case.
class Checker {
 public:
  bool check(bool ok, std::string_view expression, int line) {
    if (!ok) failures_.push_back(fmt::format("line {}: {}", line, expression));
    return ok;
  }
  std::vector<std::string> take() && { return std::move(failures_); }

 private:
  std::vector<std::string> failures_;
};

// CHECK records and goes on; REQUIRE records and ends the case.
#define ICP_CHECK(condition) checker.check(static_cast<bool>(condition), #condition, __LINE__)
#define ICP_REQUIRE(condition) \
  if (!ICP_CHECK(condition)) return

using CaseBody = void (*)(IcpStore&, Checker&);

struct Case {
  std::string_view name;
  CaseBody body;
};

/// A distinct ICP: the spec's example with a new id, members and creation time.
Icp make_icp(std::vector<std::string> members, Timestamp created_at) {
  Icp icp = spec_example();
  icp.id = new_icp_id();
  icp.user_ids = std::move(members);
  icp.created_at = created_at;
  icp.updated_at = created_at;
  return icp;
}

Timestamp at_ms(std::int64_t ms) { return Timestamp{std::chrono::milliseconds{ms}}; }

Result<void> insert(IcpStore& store, const Icp& icp) {
  return store.write(WriteIcpsRequest{.icps = {&icp, 1}, .mode = WriteMode::insert});
}

std::optional<Icp> get(IcpStore& store, std::string_view id) {
  auto result = store.get(GetIcpRequest{.id = id});
  return result ? *result : std::nullopt;
}

std::vector<std::string> ids_of(const Result<std::vector<Icp>>& page) {
  std::vector<std::string> ids;
  if (page) {
    for (const auto& icp : *page) ids.push_back(icp.id);
  }
  return ids;
}

/// Ids in listing order: newest first, ties by id.
std::vector<std::string> listing_order(std::vector<Icp> icps) {
  std::ranges::sort(icps, [](const Icp& a, const Icp& b) {
    return a.created_at != b.created_at ? a.created_at > b.created_at : a.id < b.id;
  });
  std::vector<std::string> ids;
  ids.reserve(icps.size());
  for (const auto& icp : icps) ids.push_back(icp.id);
  return ids;
}

/// Walks a listing page by page (keyset on the last ICP of each page).
std::vector<std::string> list_in_pages(IcpStore& store, std::optional<std::string_view> member,
                                       std::size_t page_size, Checker& checker) {
  std::vector<std::string> ids;
  std::optional<ListPosition> after;
  for (int pages = 0; pages < 1000; ++pages) {
    auto page = store.list(ListIcpsRequest{.member = member, .after = after, .limit = page_size});
    if (!ICP_CHECK(page.has_value()) || page->empty()) break;
    ICP_CHECK(page->size() <= page_size);
    for (const auto& icp : *page) ids.push_back(icp.id);
    after = ListPosition{page->back().created_at, page->back().id};
  }
  return ids;
}

void get_unknown_id(IcpStore& store, Checker& checker) {
  auto result = store.get(GetIcpRequest{.id = "00000000-0000-4000-8000-000000000000"});
  ICP_REQUIRE(result.has_value());
  ICP_CHECK(!result->has_value());
}

void write_then_get_round_trips(IcpStore& store, Checker& checker) {
  const Icp icp = spec_example();
  ICP_REQUIRE(insert(store, icp).has_value());
  const auto loaded = get(store, icp.id);
  ICP_REQUIRE(loaded.has_value());
  ICP_CHECK(*loaded == icp);
  ICP_CHECK(to_json(*loaded) == to_json(icp));
}

void every_field_round_trips(IcpStore& store, Checker& checker) {
  Icp full = make_icp({"user_a", "user_b", "user_c"}, at_ms(1'700'000'000'123));
  full.description.reset();
  full.active_until = at_ms(1'800'000'000'999);
  full.leads_per_list = 2'147'483'647;
  full.custom_filter_criteria.push_back({"someFutureRule", 2.5});
  full.custom_filter_criteria.push_back({"negativeRule", -7});
  full.lead_provider_criteria.push_back(
      LeadProviderCriterion{"otherProvider", "company",
                            boost::json::object{{"z_last", 1},
                                                {"a_first", {1.5, "x", nullptr}},
                                                {"nested", {{"deep", {{"er", true}}}}},
                                                {"unicode", "Zürich \"quoted\"\n"}}});
  ICP_REQUIRE(insert(store, full).has_value());
  const auto loaded = get(store, full.id);
  ICP_REQUIRE(loaded.has_value());
  ICP_CHECK(*loaded == full);
  ICP_CHECK(to_json(*loaded) == to_json(full));
  // Key order inside opaque filters is kept, not sorted.
  const auto& filters = loaded->lead_provider_criteria.back().filters->as_object();
  ICP_REQUIRE(filters.size() == 4);
  ICP_CHECK(filters.begin()->key() == "z_last");
}

void crm_filters_tri_state_survives(IcpStore& store, Checker& checker) {
  Icp absent = make_icp({"user_a"}, at_ms(1));
  absent.crm_filters.reset();
  Icp null = make_icp({"user_a"}, at_ms(2));
  null.crm_filters = OpaqueJson(nullptr);
  Icp object = make_icp({"user_a"}, at_ms(3));
  object.crm_filters = boost::json::object{
      {"provider", "bullhorn"},
      {"filters", boost::json::array{boost::json::object{{"path", "status"}, {"mode", "eq"}}}}};
  for (const Icp* icp : {&absent, &null, &object}) {
    ICP_REQUIRE(insert(store, *icp).has_value());
    const auto loaded = get(store, icp->id);
    ICP_REQUIRE(loaded.has_value());
    ICP_CHECK(loaded->crm_filters == icp->crm_filters);
  }
  ICP_CHECK(to_json(*get(store, absent.id)).find("crmFilters") == std::string::npos);
  ICP_CHECK(to_json(*get(store, null.id)).ends_with(R"("crmFilters":null})"));
}

void insert_existing_is_conflict(IcpStore& store, Checker& checker) {
  const Icp original = make_icp({"user_a"}, at_ms(10));
  ICP_REQUIRE(insert(store, original).has_value());
  Icp changed = original;
  changed.name = "Changed";
  auto result = insert(store, changed);
  ICP_REQUIRE(!result.has_value());
  ICP_CHECK(result.error().code == Errc::conflict);
  ICP_CHECK(get(store, original.id) == original);
}

void replace_missing_is_not_found(IcpStore& store, Checker& checker) {
  const Icp icp = make_icp({"user_a"}, at_ms(10));
  auto result = store.write(WriteIcpsRequest{.icps = {&icp, 1}, .mode = WriteMode::replace});
  ICP_REQUIRE(!result.has_value());
  ICP_CHECK(result.error().code == Errc::not_found);
  ICP_CHECK(!get(store, icp.id).has_value());
}

void failed_batch_writes_nothing(IcpStore& store, Checker& checker) {
  const Icp existing = make_icp({"user_a"}, at_ms(10));
  ICP_REQUIRE(insert(store, existing).has_value());
  std::vector<Icp> batch{make_icp({"user_a"}, at_ms(11)), existing,
                         make_icp({"user_b"}, at_ms(12))};
  batch[1].name = "Changed";
  auto result = store.write(WriteIcpsRequest{.icps = batch, .mode = WriteMode::insert});
  ICP_REQUIRE(!result.has_value());
  ICP_CHECK(result.error().code == Errc::conflict);
  ICP_CHECK(!get(store, batch[0].id).has_value());
  ICP_CHECK(!get(store, batch[2].id).has_value());
  ICP_CHECK(get(store, existing.id) == existing);
  ICP_CHECK(ids_of(store.list(ListIcpsRequest{.member = "user_b"})).empty());
}

void upsert_replaces_every_field(IcpStore& store, Checker& checker) {
  const Icp original = make_icp({"user_a", "user_b"}, at_ms(10));
  ICP_REQUIRE(insert(store, original).has_value());
  Icp replacement = make_icp({"user_c"}, at_ms(20));
  replacement.id = original.id;
  replacement.name = "Replaced";
  replacement.crm_filters.reset();
  replacement.lead_provider_criteria.clear();
  ICP_REQUIRE(store.write(WriteIcpsRequest{.icps = {&replacement, 1}}).has_value());
  ICP_CHECK(get(store, original.id) == replacement);
  ICP_CHECK(ids_of(store.list(ListIcpsRequest{.member = "user_a"})).empty());
  ICP_CHECK(ids_of(store.list(ListIcpsRequest{.member = "user_c"})) ==
            std::vector<std::string>{original.id});
}

void get_for_a_member_answers_only_members(IcpStore& store, Checker& checker) {
  Icp icp = make_icp({"user_a", "user_b"}, at_ms(10));
  ICP_REQUIRE(insert(store, icp).has_value());
  auto as = [&](std::string_view id, std::string_view member) -> std::optional<Icp> {
    auto result = store.get(GetIcpRequest{.id = id, .member = member});
    ICP_CHECK(result.has_value());
    return result ? *result : std::nullopt;
  };
  ICP_CHECK(as(icp.id, "user_a") == icp);
  ICP_CHECK(as(icp.id, "user_b") == icp);
  ICP_CHECK(!as(icp.id, "user_c").has_value());
  ICP_CHECK(!as(icp.id, "user_").has_value());  // a prefix is not a member
  ICP_CHECK(!as(icp.id, "").has_value());
  ICP_CHECK(!as(new_icp_id(), "user_a").has_value());
  // Existence alone: the id and revision at least (a store may give more).
  auto exists = store.get(GetIcpRequest{.id = icp.id, .existence_only = true});
  ICP_REQUIRE(exists.has_value() && exists->has_value());
  ICP_CHECK((*exists)->id == icp.id);
  ICP_CHECK((*exists)->revision == icp.revision);
  auto missing = store.get(GetIcpRequest{.id = new_icp_id(), .existence_only = true});
  ICP_CHECK(missing.has_value() && !missing->has_value());
  // Membership follows every write.
  icp.user_ids = {"user_c"};
  ICP_REQUIRE(store.write(WriteIcpsRequest{.icps = {&icp, 1}}).has_value());
  ICP_CHECK(!as(icp.id, "user_a").has_value());
  ICP_CHECK(as(icp.id, "user_c") == icp);
}

void erase_removes_icp_and_membership(IcpStore& store, Checker& checker) {
  const Icp icp = make_icp({"user_a"}, at_ms(10));
  const Icp other = make_icp({"user_a"}, at_ms(11));
  ICP_REQUIRE(insert(store, icp).has_value());
  ICP_REQUIRE(insert(store, other).has_value());
  auto erased = store.erase(EraseIcpRequest{.id = icp.id});
  ICP_REQUIRE(erased.has_value());
  ICP_CHECK(*erased);
  ICP_CHECK(!get(store, icp.id).has_value());
  ICP_CHECK(get(store, other.id).has_value());
  ICP_CHECK(ids_of(store.list(ListIcpsRequest{.member = "user_a"})) ==
            std::vector<std::string>{other.id});
  auto again = store.erase(EraseIcpRequest{.id = icp.id});
  ICP_REQUIRE(again.has_value());
  ICP_CHECK(!*again);
}

void list_for_member_in_order(IcpStore& store, Checker& checker) {
  std::vector<Icp> mine;
  mine.reserve(12);
  for (int i = 0; i < 12; ++i) {
    // Several share a creation time, so the id decides their order.
    mine.push_back(make_icp({"user_a", "user_b"}, at_ms(1000 + (i % 4) * 10)));
  }
  for (int i = 0; i < 5; ++i) {
    ICP_REQUIRE(insert(store, make_icp({"user_z"}, at_ms(1000 + i))).has_value());
  }
  ICP_REQUIRE(store.write(WriteIcpsRequest{.icps = mine, .mode = WriteMode::insert}).has_value());
  ICP_CHECK(ids_of(store.list(ListIcpsRequest{.member = "user_a", .limit = 100})) ==
            listing_order(mine));
  ICP_CHECK(ids_of(store.list(ListIcpsRequest{.member = "user_b", .limit = 100})) ==
            listing_order(mine));
  ICP_CHECK(ids_of(store.list(ListIcpsRequest{.member = "nobody"})).empty());
  // A member id is matched exactly: no prefix, no case folding.
  ICP_CHECK(ids_of(store.list(ListIcpsRequest{.member = "user_"})).empty());
  ICP_CHECK(ids_of(store.list(ListIcpsRequest{.member = "USER_A"})).empty());
}

void list_pages_by_keyset(IcpStore& store, Checker& checker) {
  std::vector<Icp> all;
  all.reserve(23);
  for (int i = 0; i < 23; ++i) all.push_back(make_icp({"user_a"}, at_ms(5000 + (i % 5))));
  ICP_REQUIRE(store.write(WriteIcpsRequest{.icps = all, .mode = WriteMode::insert}).has_value());
  const auto expected = listing_order(all);
  ICP_CHECK(ids_of(store.list(ListIcpsRequest{.member = "user_a", .limit = 7})) ==
            std::vector<std::string>(expected.begin(), expected.begin() + 7));
  for (std::size_t page_size : {1U, 4U, 7U, 23U, 50U}) {
    ICP_CHECK(list_in_pages(store, "user_a", page_size, checker) == expected);
    ICP_CHECK(list_in_pages(store, std::nullopt, page_size, checker) == expected);
  }
  // A position need not name a stored ICP: the page starts after where it would be.
  const ListPosition gap{at_ms(5002), "ffffffff-ffff-ffff-ffff-ffffffffffff"};
  auto after_gap = store.list(ListIcpsRequest{.member = "user_a", .after = gap, .limit = 100});
  std::vector<Icp> older;
  std::ranges::copy_if(all, std::back_inserter(older),
                       [](const Icp& icp) { return icp.created_at < at_ms(5002); });
  ICP_CHECK(ids_of(after_gap) == listing_order(older));
}

void list_all_in_order(IcpStore& store, Checker& checker) {
  std::vector<Icp> all;
  all.reserve(9);
  for (int i = 0; i < 9; ++i)
    all.push_back(make_icp({fmt::format("user_{}", i)}, at_ms(i * 7 % 4)));
  ICP_REQUIRE(store.write(WriteIcpsRequest{.icps = all, .mode = WriteMode::insert}).has_value());
  ICP_CHECK(ids_of(store.list(ListIcpsRequest{.limit = 100})) == listing_order(all));
  ICP_CHECK(ids_of(store.list(ListIcpsRequest{.limit = 3})).size() == 3);
}

void list_stops_at_max_bytes(IcpStore& store, Checker& checker) {
  std::vector<Icp> all;
  all.reserve(8);
  for (int i = 0; i < 8; ++i) {
    all.push_back(make_icp({"user_a"}, at_ms(9000 - i)));
    all.back().name = std::string(static_cast<std::size_t>(100 * (i + 1)), 'n');
  }
  ICP_REQUIRE(store.write(WriteIcpsRequest{.icps = all, .mode = WriteMode::insert}).has_value());
  const auto expected = listing_order(all);
  // Reads until the ICPs before the last one read hold max_bytes: the last
  // is the one that says more follow.
  // Sizes of the ICPs as read back (an opaque part read from text may count
  // differently from the value it was written as).
  const auto read_back = store.list(ListIcpsRequest{.limit = 100});
  ICP_REQUIRE(read_back && read_back->size() == all.size());
  const auto first_two = listed_bytes((*read_back)[0]) + listed_bytes((*read_back)[1]);
  for (const std::optional<std::string_view> member :
       {std::optional<std::string_view>("user_a"), std::optional<std::string_view>()}) {
    const auto listed = [&](std::size_t max_bytes, std::size_t limit) {
      return ids_of(
          store.list(ListIcpsRequest{.member = member, .limit = limit, .max_bytes = max_bytes}));
    };
    ICP_CHECK(listed(first_two, 100) ==
              std::vector<std::string>(expected.begin(), expected.begin() + 3));
    ICP_CHECK(listed(first_two - 1, 100) ==
              std::vector<std::string>(expected.begin(), expected.begin() + 3));
    ICP_CHECK(listed(first_two + 1, 100) ==
              std::vector<std::string>(expected.begin(), expected.begin() + 4));
    // Always at least one, and one more to tell that more follow.
    ICP_CHECK(listed(0, 100) == std::vector<std::string>(expected.begin(), expected.begin() + 2));
    ICP_CHECK(listed(1, 1) == std::vector<std::string>(expected.begin(), expected.begin() + 1));
    // The count still bounds it.
    ICP_CHECK(listed(first_two, 2) ==
              std::vector<std::string>(expected.begin(), expected.begin() + 2));
    ICP_CHECK(listed(std::numeric_limits<std::size_t>::max(), 100) == expected);
  }
}

/// The ICP `id` of `organization` as the store has it.
std::optional<Icp> get_in(IcpStore& store, std::string_view organization, std::string_view id) {
  auto result = store.get(GetIcpRequest{.id = id, .organization = organization});
  return result ? *result : std::nullopt;
}

void organizations_partition_reads(IcpStore& store, Checker& checker) {
  // One id in two organizations: two ICPs, neither of which sees the other.
  Icp in_a = make_icp({"user_a"}, at_ms(1000));
  in_a.organization = "org_a";
  in_a.name = "of a";
  Icp in_b = in_a;
  in_b.organization = "org_b";
  in_b.name = "of b";
  ICP_REQUIRE(insert(store, in_a).has_value());
  ICP_REQUIRE(insert(store, in_b).has_value());
  ICP_CHECK(get_in(store, "org_a", in_a.id) == in_a);
  ICP_CHECK(get_in(store, "org_b", in_a.id) == in_b);
  ICP_CHECK(!get_in(store, "", in_a.id).has_value());
  ICP_CHECK(!get_in(store, "org_c", in_a.id).has_value());
  // Case and prefixes are other organizations.
  ICP_CHECK(!get_in(store, "ORG_A", in_a.id).has_value());
  ICP_CHECK(!get_in(store, "org_", in_a.id).has_value());
  const auto member_of = [&](std::string_view organization, bool existence_only) {
    auto result = store.get(GetIcpRequest{.id = in_a.id,
                                          .member = "user_a",
                                          .existence_only = existence_only,
                                          .organization = organization});
    return result && result->has_value() ? (*result)->organization : std::string("none");
  };
  ICP_CHECK(member_of("org_a", false) == "org_a");
  ICP_CHECK(member_of("org_b", true) == "org_b");
  ICP_CHECK(member_of("org_c", false) == "none");
  const auto exists_in = [&](std::string_view organization) {
    auto result = store.get(
        GetIcpRequest{.id = in_a.id, .existence_only = true, .organization = organization});
    return result && result->has_value();
  };
  ICP_CHECK(exists_in("org_a"));
  ICP_CHECK(!exists_in("org_c"));

  for (const auto& [organization, expected] :
       {std::pair<std::string_view, std::string_view>{"org_a", "of a"}, {"org_b", "of b"}}) {
    for (const std::optional<std::string_view> member :
         {std::optional<std::string_view>("user_a"), std::optional<std::string_view>()}) {
      const auto page =
          store.list(ListIcpsRequest{.member = member, .limit = 10, .organization = organization});
      ICP_CHECK(page.has_value() && page->size() == 1 && page->front().name == expected &&
                page->front().organization == organization);
    }
  }
  ICP_CHECK(ids_of(store.list(ListIcpsRequest{.limit = 10, .organization = "org_c"})).empty());
  ICP_CHECK(ids_of(store.list(ListIcpsRequest{.limit = 10})).empty());
}

void organizations_partition_writes(IcpStore& store, Checker& checker) {
  Icp in_a = make_icp({"user_a"}, at_ms(1000));
  in_a.organization = "org_a";
  in_a.revision = 1;
  Icp in_b = in_a;
  in_b.organization = "org_b";
  in_b.revision = 2;
  // One batch may hold the same id in two organizations.
  const std::array both{in_a, in_b};
  ICP_REQUIRE(store.write(WriteIcpsRequest{.icps = both, .mode = WriteMode::insert}).has_value());
  // Insert conflicts only within the organization.
  const auto again = insert(store, in_a);
  ICP_CHECK(!again && again.error().code == Errc::conflict);

  // Replace finds only its own organization's ICP.
  Icp in_c = in_a;
  in_c.organization = "org_c";
  const auto missing =
      store.write(WriteIcpsRequest{.icps = {&in_c, 1}, .mode = WriteMode::replace});
  ICP_CHECK(!missing && missing.error().code == Errc::not_found);
  ICP_CHECK(!get_in(store, "org_c", in_a.id).has_value());
  // A compare-and-swap compares with its own organization's revision.
  Icp changed = in_a;
  changed.name = "changed in a";
  changed.revision = 3;
  const auto stale = store.write(WriteIcpsRequest{
      .icps = {&changed, 1}, .mode = WriteMode::replace, .expected_revision = in_b.revision});
  ICP_CHECK(!stale && stale.error().code == Errc::precondition_failed);
  ICP_CHECK(store
                .write(WriteIcpsRequest{.icps = {&changed, 1},
                                        .mode = WriteMode::replace,
                                        .expected_revision = in_a.revision})
                .has_value());
  ICP_CHECK(get_in(store, "org_a", in_a.id) == changed);
  ICP_CHECK(get_in(store, "org_b", in_a.id) == in_b);
  // Membership changes stay in their organization.
  changed.user_ids = {"user_z"};
  changed.revision = 4;
  ICP_CHECK(store.write(WriteIcpsRequest{.icps = {&changed, 1}}).has_value());
  ICP_CHECK(ids_of(store.list(ListIcpsRequest{.member = "user_a", .organization = "org_b"})) ==
            std::vector<std::string>{in_a.id});
  ICP_CHECK(
      ids_of(store.list(ListIcpsRequest{.member = "user_a", .organization = "org_a"})).empty());

  // Erase takes only its own organization's ICP, and its members with it.
  const auto in_other = store.erase(EraseIcpRequest{.id = in_a.id, .organization = "org_c"});
  ICP_CHECK(in_other.has_value() && !*in_other);
  const auto stale_erase = store.erase(
      EraseIcpRequest{.id = in_a.id, .expected_revision = in_b.revision, .organization = "org_a"});
  ICP_CHECK(!stale_erase && stale_erase.error().code == Errc::precondition_failed);
  const auto erased = store.erase(EraseIcpRequest{.id = in_a.id, .organization = "org_a"});
  ICP_CHECK(erased.has_value() && *erased);
  ICP_CHECK(!get_in(store, "org_a", in_a.id).has_value());
  ICP_CHECK(get_in(store, "org_b", in_a.id) == in_b);
  ICP_CHECK(ids_of(store.list(ListIcpsRequest{.member = "user_a", .organization = "org_b"})) ==
            std::vector<std::string>{in_a.id});
  ICP_CHECK(
      ids_of(store.list(ListIcpsRequest{.member = "user_z", .organization = "org_a"})).empty());
}

void ids_are_data_not_sql(IcpStore& store, Checker& checker) {
  const Icp icp = make_icp({"o'brien\"; DROP TABLE icps; --", "user_%"}, at_ms(10));
  ICP_REQUIRE(insert(store, icp).has_value());
  auto hostile = store.get(GetIcpRequest{.id = "' OR '1'='1"});
  ICP_REQUIRE(hostile.has_value());
  ICP_CHECK(!hostile->has_value());
  ICP_CHECK(ids_of(store.list(ListIcpsRequest{.member = "o'brien\"; DROP TABLE icps; --"})) ==
            std::vector<std::string>{icp.id});
  // LIKE wildcards are not wildcards here.
  ICP_CHECK(ids_of(store.list(ListIcpsRequest{.member = "user_x"})).empty());
  ICP_CHECK(get(store, icp.id) == icp);
}

/// What validate() lets through, every store keeps: the longest user id and
/// organization, every other control character, characters beyond the
/// Basic Multilingual Plane.
void the_longest_allowed_strings_are_kept(IcpStore& store, Checker& checker) {
  const std::string longest_user(kMaxUserIdBytes - 2, 'u');
  std::string wide_user;  // U+1F600, four bytes each
  while (wide_user.size() + 4 <= kMaxUserIdBytes) wide_user += "\xf0\x9f\x98\x80";
  Icp icp = make_icp({longest_user + "\xc3\xa9", wide_user}, at_ms(10));
  icp.organization = "org_" + std::string(kMaxOrganizationBytes - 4, 'o');
  icp.name = "\x01\x1f\x7f \xef\xbf\xbf \xf4\x8f\xbf\xbf";  // controls, U+FFFF, U+10FFFF
  icp.description = std::string(100'000, 'd');
  ICP_REQUIRE(validate(WriteIcpsRequest{.icps = {&icp, 1}}).has_value());
  ICP_REQUIRE(insert(store, icp).has_value());
  const auto as = [&](const std::string& member) {
    return store.get(
        GetIcpRequest{.id = icp.id, .member = member, .organization = icp.organization});
  };
  for (const auto& member : icp.user_ids) {
    const auto read = as(member);
    ICP_REQUIRE(read.has_value());
    ICP_CHECK(*read == icp);
    ICP_CHECK(
        ids_of(store.list(ListIcpsRequest{.member = member, .organization = icp.organization})) ==
        std::vector<std::string>{icp.id});
    ICP_CHECK(ids_of(store.list(ListIcpsRequest{.member = member})).empty());
  }
}

/// A read may name what no ICP can hold (U+0000, bytes that are not UTF-8,
/// a user id far past the limit): it finds nothing, and is no error.
void reads_of_unstorable_strings_find_nothing(IcpStore& store, Checker& checker) {
  const Icp icp = make_icp({"user_a"}, at_ms(10));
  ICP_REQUIRE(insert(store, icp).has_value());
  using namespace std::string_literals;
  for (const std::string& odd :
       {"user_a\0"s, "\0"s, "user\xff"s, "\xc3"s, std::string(10'000, 'u')}) {
    const auto as_member = store.get(GetIcpRequest{.id = icp.id, .member = odd});
    ICP_CHECK(as_member.has_value() && !as_member->has_value());
    const auto exists =
        store.get(GetIcpRequest{.id = icp.id, .member = odd, .existence_only = true});
    ICP_CHECK(exists.has_value() && !exists->has_value());
    const auto by_id = store.get(GetIcpRequest{.id = odd});
    ICP_CHECK(by_id.has_value() && !by_id->has_value());
    const auto in_organization = store.get(GetIcpRequest{.id = icp.id, .organization = odd});
    ICP_CHECK(in_organization.has_value() && !in_organization->has_value());
    const auto listed = store.list(ListIcpsRequest{.member = odd});
    ICP_CHECK(listed.has_value() && listed->empty());
    const auto listed_in = store.list(ListIcpsRequest{.organization = odd});
    ICP_CHECK(listed_in.has_value() && listed_in->empty());
    const auto after = store.list(
        ListIcpsRequest{.after = ListPosition{icp.created_at + std::chrono::milliseconds{1}, odd}});
    ICP_CHECK(after.has_value());
    const auto erased = store.erase(EraseIcpRequest{.id = odd});
    ICP_CHECK(erased.has_value() && !*erased);
    const auto erased_in = store.erase(EraseIcpRequest{.id = icp.id, .organization = odd});
    ICP_CHECK(erased_in.has_value() && !*erased_in);
  }
  ICP_CHECK(get(store, icp.id) == icp);
}

void revisions_are_kept(IcpStore& store, Checker& checker) {
  Icp icp = make_icp({"user_a"}, at_ms(10));
  icp.revision = 0xfedcba9876543210ULL;  // above INT64_MAX: no sign trouble
  ICP_REQUIRE(insert(store, icp).has_value());
  ICP_CHECK(get(store, icp.id)->revision == icp.revision);
  icp.revision = 1;
  ICP_REQUIRE(store.write(WriteIcpsRequest{.icps = {&icp, 1}}).has_value());
  ICP_CHECK(get(store, icp.id)->revision == 1);
  const auto listed = store.list(ListIcpsRequest{.member = "user_a"});
  ICP_REQUIRE(listed.has_value() && listed->size() == 1);
  ICP_CHECK(listed->front().revision == 1);
}

void replace_compares_and_swaps(IcpStore& store, Checker& checker) {
  Icp original = make_icp({"user_a"}, at_ms(10));
  original.revision = 11;
  ICP_REQUIRE(insert(store, original).has_value());
  Icp next = original;
  next.name = "Next";
  next.revision = 12;
  auto swap = [&](std::uint64_t expected) {
    return store.write(WriteIcpsRequest{
        .icps = {&next, 1}, .mode = WriteMode::replace, .expected_revision = expected});
  };
  const auto stale = swap(10);
  ICP_REQUIRE(!stale.has_value());
  ICP_CHECK(stale.error().code == Errc::precondition_failed);
  ICP_CHECK(get(store, original.id) == original);
  ICP_CHECK(swap(11).has_value());
  ICP_CHECK(get(store, original.id) == next);
  ICP_CHECK(swap(11).error().code == Errc::precondition_failed);  // the same swap, once only

  Icp missing = make_icp({"user_a"}, at_ms(11));
  const auto not_there = store.write(
      WriteIcpsRequest{.icps = {&missing, 1}, .mode = WriteMode::replace, .expected_revision = 0});
  ICP_CHECK(not_there.error().code == Errc::not_found);
  ICP_CHECK(get(store, original.id) == next);
}

void erase_compares_revisions(IcpStore& store, Checker& checker) {
  Icp icp = make_icp({"user_a"}, at_ms(10));
  icp.revision = 7;
  ICP_REQUIRE(insert(store, icp).has_value());
  const auto stale = store.erase(EraseIcpRequest{.id = icp.id, .expected_revision = 6});
  ICP_REQUIRE(!stale.has_value());
  ICP_CHECK(stale.error().code == Errc::precondition_failed);
  ICP_CHECK(get(store, icp.id) == icp);
  ICP_CHECK(ids_of(store.list(ListIcpsRequest{.member = "user_a"})) ==
            std::vector<std::string>{icp.id});
  const auto erased = store.erase(EraseIcpRequest{.id = icp.id, .expected_revision = 7});
  ICP_REQUIRE(erased.has_value());
  ICP_CHECK(*erased);
  const auto gone = store.erase(EraseIcpRequest{.id = icp.id, .expected_revision = 7});
  ICP_REQUIRE(gone.has_value());
  ICP_CHECK(!*gone);
}

void concurrent_swaps_have_one_winner(IcpStore& store, Checker& checker) {
  Icp icp = make_icp({"user_a"}, at_ms(10));
  icp.revision = 1;
  ICP_REQUIRE(insert(store, icp).has_value());
  constexpr int kThreads = 4;
  constexpr std::uint64_t kRounds = 25;
  std::atomic<int> wins{0};
  std::atomic<int> errors{0};
  {
    std::vector<std::jthread> threads;
    threads.reserve(kThreads);
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        // Every thread tries to move each revision r to r + 1; only one may.
        for (std::uint64_t round = 1; round <= kRounds; ++round) {
          Icp next = icp;
          next.name = fmt::format("thread {} round {}", t, round);
          next.revision = round + 1;
          for (;;) {
            const auto current = store.get(GetIcpRequest{.id = icp.id});
            if (!current || !*current) {
              ++errors;
              return;
            }
            if ((*current)->revision > round) break;  // someone else won this round
            const auto written = store.write(WriteIcpsRequest{
                .icps = {&next, 1}, .mode = WriteMode::replace, .expected_revision = round});
            if (written) {
              ++wins;
              break;
            }
            if (written.error().code != Errc::precondition_failed) {
              ++errors;
              return;
            }
          }
        }
      });
    }
  }
  ICP_CHECK(errors.load() == 0);
  ICP_CHECK(wins.load() == static_cast<int>(kRounds));
  ICP_CHECK(get(store, icp.id)->revision == kRounds + 1);
}

void concurrent_use_loses_nothing(IcpStore& store, Checker& checker) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 40;
  std::atomic<int> errors{0};
  std::vector<std::vector<Icp>> written(kThreads);
  {
    std::vector<std::jthread> threads;
    threads.reserve(kThreads);
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        const std::string member = fmt::format("worker_{}", t);
        for (int i = 0; i < kPerThread; ++i) {
          Icp icp = make_icp({member, "shared_user"}, at_ms(t * 1000 + i));
          if (!insert(store, icp)) ++errors;
          auto loaded = store.get(GetIcpRequest{.id = icp.id});
          if (!loaded || *loaded != icp) ++errors;
          if (i % 2 == 1) {  // erase every other one again
            auto erased = store.erase(EraseIcpRequest{.id = icp.id});
            if (!erased || !*erased) ++errors;
          } else {
            written[static_cast<std::size_t>(t)].push_back(std::move(icp));
          }
          if (!store.list(ListIcpsRequest{.member = "shared_user", .limit = 10})) ++errors;
        }
      });
    }
  }
  ICP_CHECK(errors.load() == 0);
  std::vector<Icp> expected;
  for (int t = 0; t < kThreads; ++t) {
    const auto& mine = written[static_cast<std::size_t>(t)];
    ICP_CHECK(ids_of(store.list(ListIcpsRequest{.member = fmt::format("worker_{}", t),
                                                .limit = 500})) == listing_order(mine));
    expected.insert(expected.end(), mine.begin(), mine.end());
  }
  ICP_CHECK(ids_of(store.list(ListIcpsRequest{.member = "shared_user", .limit = 500})) ==
            listing_order(expected));
}

constexpr std::array kCases{
    Case{"get of an unknown id finds nothing", get_unknown_id},
    Case{"write then get returns the same ICP", write_then_get_round_trips},
    Case{"every field round-trips, opaque parts as given", every_field_round_trips},
    Case{"crmFilters absent, null and object each survive", crm_filters_tri_state_survives},
    Case{"insert of an existing id is a conflict and changes nothing", insert_existing_is_conflict},
    Case{"replace of a missing id is not_found and writes nothing", replace_missing_is_not_found},
    Case{"a failed batch writes none of it", failed_batch_writes_nothing},
    Case{"upsert replaces every field, membership included", upsert_replaces_every_field},
    Case{"get for a member answers only that ICP's members", get_for_a_member_answers_only_members},
    Case{"erase removes the ICP and its membership", erase_removes_icp_and_membership},
    Case{"list for a member: only theirs, newest first, ties by id", list_for_member_in_order},
    Case{"list pages by keyset with no skips or repeats", list_pages_by_keyset},
    Case{"list of all ICPs in listing order", list_all_in_order},
    Case{"list stops at max_bytes, one ICP past it", list_stops_at_max_bytes},
    Case{"organizations partition reads: one id, two ICPs", organizations_partition_reads},
    Case{"organizations partition writes and erases", organizations_partition_writes},
    Case{"ids and user ids are data, never SQL or patterns", ids_are_data_not_sql},
    Case{"the longest strings validate() allows are kept", the_longest_allowed_strings_are_kept},
    Case{"reads naming strings no ICP can hold find nothing",
         reads_of_unstorable_strings_find_nothing},
    Case{"revisions are kept as written", revisions_are_kept},
    Case{"replace with an expected revision is a compare-and-swap", replace_compares_and_swaps},
    Case{"erase with an expected revision is a compare-and-delete", erase_compares_revisions},
    Case{"concurrent compare-and-swaps: one winner per revision", concurrent_swaps_have_one_winner},
    Case{"concurrent writers, readers and erasers lose nothing", concurrent_use_loses_nothing},
};

}  // namespace

std::vector<std::string_view> store_conformance_cases() {
  std::vector<std::string_view> names;
  names.reserve(kCases.size());
  for (const auto& c : kCases) names.push_back(c.name);
  return names;
}

std::vector<std::string> run_store_conformance_case(std::string_view name,
                                                    const StoreFactory& make_store) {
  const auto* const found = std::ranges::find(kCases, name, &Case::name);
  if (found == kCases.end()) return {fmt::format("no conformance case named \"{}\"", name)};
  auto store = make_store();
  if (!store) return {"the store factory returned no store"};
  Checker checker;
  try {
    found->body(*store, checker);
  } catch (const std::exception& e) {
    checker.check(false, fmt::format("the store threw: {}", e.what()), 0);
  }
  return std::move(checker).take();
}

std::vector<std::string> run_store_conformance(const StoreFactory& make_store) {
  std::vector<std::string> failures;
  for (const auto& c : kCases) {
    for (auto& failure : run_store_conformance_case(c.name, make_store)) {
      failures.push_back(fmt::format("{}: {}", c.name, failure));
    }
  }
  return failures;
}

std::string_view spec_example_json() { return detail::kSpecExampleJson; }

Icp spec_example() {
  // The example is a constant of this file, so a parse failure is a bug here.
  return parse_icp(detail::kSpecExampleJson).value();
}

}  // namespace icp::testing
