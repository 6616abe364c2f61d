#include <icp/store.hpp>

#include "store/check_batch.hpp"
#include "store/errors.hpp"
#include "store/list_order.hpp"

#include <boost/unordered/unordered_flat_map.hpp>

#include <algorithm>
#include <mutex>
#include <shared_mutex>
#include <string>

namespace icp {

namespace {

/// Hashes std::string and std::string_view alike, so lookups by view do not
/// build a string.
struct IdHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view id) const noexcept {
    return std::hash<std::string_view>{}(id);
  }
};

/// Every ICP in one hash map per organization under a reader-writer lock: a
/// get is two hash lookups and a copy. A list walks the organization's whole
/// map: fine for tests and small data sets, which is what this store is for.
class MemoryStore final : public IcpStore {
 public:
  Result<std::optional<Icp>> get(const GetIcpRequest& request) override {
    const std::shared_lock lock(mutex_);
    const Icp* found = find(request.organization, request.id);
    if (found == nullptr) return std::optional<Icp>{};
    const auto& user_ids = found->user_ids;
    if (request.member && std::ranges::find(user_ids, *request.member) == user_ids.end()) {
      return std::optional<Icp>{};
    }
    if (request.existence_only) {
      return std::optional<Icp>{
          Icp{.id = found->id, .revision = found->revision, .organization = found->organization}};
    }
    return std::optional<Icp>{*found};
  }

  Result<void> write(const WriteIcpsRequest& request) override {
    const std::unique_lock lock(mutex_);
    auto stored_revision = [&](const Icp& icp) -> std::optional<std::uint64_t> {
      const Icp* found = find(icp.organization, icp.id);
      if (found == nullptr) return std::nullopt;
      return found->revision;
    };
    if (auto problem = detail::check_batch(request, stored_revision)) {
      return *problem;
    }
    for (const auto& icp : request.icps) {
      auto organization = organizations_.find(icp.organization);
      if (organization == organizations_.end()) {
        organization = organizations_.try_emplace(icp.organization).first;
      }
      organization->second.insert_or_assign(icp.id, icp);
    }
    return {};
  }

  Result<bool> erase(const EraseIcpRequest& request) override {
    const std::unique_lock lock(mutex_);
    const auto organization = organizations_.find(request.organization);
    if (organization == organizations_.end()) return false;
    const auto found = organization->second.find(request.id);
    if (found == organization->second.end()) return false;
    if (request.expected_revision && found->second.revision != *request.expected_revision) {
      return detail::stale(request.id);
    }
    organization->second.erase(found);
    return true;
  }

  Result<std::vector<Icp>> list(const ListIcpsRequest& request) override {
    std::vector<const Icp*> matches;
    const std::shared_lock lock(mutex_);
    const auto organization = organizations_.find(request.organization);
    if (organization == organizations_.end()) return std::vector<Icp>{};
    for (const auto& [id, icp] : organization->second) {
      if (request.member &&
          std::ranges::find(icp.user_ids, *request.member) == icp.user_ids.end()) {
        continue;
      }
      if (request.after && !detail::listed_after(icp, *request.after)) continue;
      matches.push_back(&icp);
    }
    const auto count = std::min(request.limit, matches.size());
    std::ranges::partial_sort(
        matches, matches.begin() + static_cast<std::ptrdiff_t>(count),
        [](const Icp* a, const Icp* b) { return detail::listed_before(*a, *b); });
    std::vector<Icp> page;
    detail::ListBounds bounds(request);
    for (std::size_t i = 0; i < count && bounds.wants_more(); ++i) {
      page.push_back(*matches[i]);
      bounds.add(page.back());
    }
    return page;
  }

 private:
  using IcpsById = boost::unordered_flat_map<std::string, Icp, IdHash, std::equal_to<>>;

  /// The ICP `id` of `organization`, null when there is none; under the lock.
  [[nodiscard]] const Icp* find(std::string_view organization, std::string_view id) const {
    const auto icps = organizations_.find(organization);
    if (icps == organizations_.end()) return nullptr;
    const auto found = icps->second.find(id);
    return found == icps->second.end() ? nullptr : &found->second;
  }

  std::shared_mutex mutex_;
  // Organizations are named by tokens or the identity provider, not by
  // request bodies, so std::hash (IdHash) is fine for them as for UUIDs.
  boost::unordered_flat_map<std::string, IcpsById, IdHash, std::equal_to<>> organizations_;
};

}  // namespace

std::shared_ptr<IcpStore> make_memory_store() { return std::make_shared<MemoryStore>(); }

}  // namespace icp
