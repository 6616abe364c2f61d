// Bringing your own store: an icp::IcpStore over a std::map, checked by the
// shipped conformance suite (target icp::testing), then used through
// icp::IcpService like any other store. A real one puts a database where the
// map is; the four methods and their rules stay the same. Exits 0 when every
// conformance case and every check of the service passes.
#include <icp/auth.hpp>
#include <icp/error.hpp>
#include <icp/etag.hpp>
#include <icp/service.hpp>
#include <icp/store.hpp>
#include <icp/testing/store_conformance.hpp>

#include <fmt/core.h>

#include <algorithm>
#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace {

/// Every ICP in one map keyed by (organization, id), under one mutex.
/// Thread-safe. A get is one map lookup; a list walks every ICP, which is
/// fine for an example and for small data sets.
class MapStore final : public icp::IcpStore {
 public:
  icp::Result<std::optional<icp::Icp>> get(const icp::GetIcpRequest& request) override {
    const std::scoped_lock lock(mutex_);
    const auto found = icps_.find(key_of(request.organization, request.id));
    if (found == icps_.end()) return std::optional<icp::Icp>{};
    // A member is asked for: a caller who is not one must not learn more
    // than from a missing ICP.
    if (request.member && !lists(found->second, *request.member)) {
      return std::optional<icp::Icp>{};
    }
    return std::optional<icp::Icp>{found->second};
  }

  // The batch passed icp::validate() (no ICP twice, an expected revision only
  // for a replace of one): what is left needs the stored state.
  icp::Result<void> write(const icp::WriteIcpsRequest& request) override {
    const std::scoped_lock lock(mutex_);
    // Check the whole batch before writing any of it: all or nothing.
    for (const icp::Icp& icp : request.icps) {
      const auto stored = icps_.find(key_of(icp.organization, icp.id));
      const bool exists = stored != icps_.end();
      if (request.mode == icp::WriteMode::insert && exists) {
        return icp::Error{icp::Errc::conflict, "ICP already exists: " + icp.id};
      }
      if (request.mode == icp::WriteMode::replace && !exists) {
        return icp::Error{icp::Errc::not_found, "ICP not found: " + icp.id};
      }
      if (request.expected_revision &&
          (!exists || stored->second.revision != *request.expected_revision)) {
        return stale(icp.id);
      }
    }
    for (const icp::Icp& icp : request.icps) {
      icps_.insert_or_assign(key_of(icp.organization, icp.id), icp);
    }
    return {};
  }

  icp::Result<bool> erase(const icp::EraseIcpRequest& request) override {
    const std::scoped_lock lock(mutex_);
    const auto found = icps_.find(key_of(request.organization, request.id));
    if (found == icps_.end()) return false;
    if (request.expected_revision && found->second.revision != *request.expected_revision) {
      return stale(request.id);
    }
    icps_.erase(found);
    return true;
  }

  icp::Result<std::vector<icp::Icp>> list(const icp::ListIcpsRequest& request) override {
    const std::scoped_lock lock(mutex_);
    std::vector<const icp::Icp*> matches;
    for (const auto& [key, icp] : icps_) {
      if (key.first != request.organization) continue;
      if (request.member && !lists(icp, *request.member)) continue;
      if (request.after && !comes_after(icp, *request.after)) continue;
      matches.push_back(&icp);
    }
    // Newest created_at first, ties by id.
    std::ranges::sort(matches, [](const icp::Icp* a, const icp::Icp* b) {
      return a->created_at != b->created_at ? a->created_at > b->created_at : a->id < b->id;
    });
    // At most `limit`, and stop once the ICPs before the last one taken hold
    // `max_bytes`: the last one tells the service that more follow.
    std::vector<icp::Icp> page;
    std::size_t held = 0;
    std::size_t held_before_last = 0;
    for (const icp::Icp* icp : matches) {
      if (page.size() >= request.limit) break;
      if (page.size() > 1 && held_before_last >= request.max_bytes) break;
      page.push_back(*icp);
      held_before_last = held;
      held += icp::listed_bytes(*icp);
    }
    return page;
  }

 private:
  using Key = std::pair<std::string, std::string>;  // organization, id

  static Key key_of(std::string_view organization, std::string_view id) {
    return {std::string(organization), std::string(id)};
  }
  static bool lists(const icp::Icp& icp, std::string_view member) {
    return std::ranges::find(icp.user_ids, member) != icp.user_ids.end();
  }
  static bool comes_after(const icp::Icp& icp, const icp::ListPosition& position) {
    if (icp.created_at != position.created_at) return icp.created_at < position.created_at;
    return icp.id > position.id;
  }
  static icp::Error stale(std::string_view id) {
    return icp::Error{icp::Errc::precondition_failed,
                      "ICP " + std::string(id) + " has changed since the revision given"};
  }

  std::mutex mutex_;
  std::map<Key, icp::Icp> icps_;
};

std::shared_ptr<icp::IcpStore> make_my_store() { return std::make_shared<MapStore>(); }

}  // namespace

int main() {
  // [conformance]
  std::size_t failed = 0;
  for (auto name : icp::testing::store_conformance_cases()) {
    auto failures = icp::testing::run_store_conformance_case(name, [] { return make_my_store(); });
    for (const auto& failure : failures) fmt::print("FAILED {}: {}\n", name, failure);
    if (!failures.empty()) ++failed;
  }
  // [conformance]
  fmt::print("conformance: {} cases, {} failed\n", icp::testing::store_conformance_cases().size(),
             failed);

  // The store behind the service, with the API's rules.
  int wrong = 0;
  const auto expect = [&wrong](bool ok, std::string_view what) {
    fmt::print("{} {}\n", ok ? "ok" : "FAILED", what);
    if (!ok) ++wrong;
  };
  const icp::IcpService service(make_my_store());
  const auto alice = icp::AuthContext::user("user_abc123");
  const auto bob = icp::AuthContext::user("user_def456");

  const auto created =
      service.create(std::string_view(R"({"name":"Mine","leadProviderCriteria":[]})"), alice);
  expect(created.has_value(), "create as a user");
  if (!created) return 1;
  const std::string id = created->id;
  expect(created->user_ids == std::vector<std::string>{"user_abc123"}, "the creator is a member");

  const auto as_alice = service.get(id, alice);
  expect(as_alice && as_alice->name == "Mine", "get as a member");
  const auto as_bob = service.get(id, bob);
  expect(!as_bob && as_bob.error().code == icp::Errc::forbidden, "get as a stranger: forbidden");
  const auto anonymous = service.get(id, icp::AuthContext::anonymous());
  expect(!anonymous && anonymous.error().code == icp::Errc::unauthorized,
         "get as anonymous: unauthorized");

  const auto page = service.list(alice);
  expect(page && page->icps.size() == 1 && page->icps.front().id == id, "list as a member");

  const auto updated = service.update(id, std::string_view(R"({"description":"Changed"})"), alice,
                                      icp::parse_if_match(icp::etag_of(*created)));
  expect(updated && updated->description == "Changed", "update with the current ETag");
  const auto stale = service.update(id, std::string_view(R"({"description":"Lost"})"), alice,
                                    icp::parse_if_match(icp::etag_of(*created)));
  expect(!stale && stale.error().code == icp::Errc::precondition_failed,
         "update with an old ETag: precondition failed");

  expect(service.remove(id, alice).has_value(), "delete as a member");
  const auto gone = service.get(id, alice);
  expect(!gone && gone.error().code == icp::Errc::not_found, "get after delete: not found");

  return failed == 0 && wrong == 0 ? 0 : 1;
}
