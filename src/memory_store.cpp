#include <icp/store.hpp>

#include "list_order.hpp"

#include <algorithm>
#include <map>
#include <mutex>
#include <shared_mutex>
#include <string>

namespace icp {

namespace {

/// Every ICP in one ordered map under a reader-writer lock. A list walks the
/// whole map: fine for tests and small data sets, which is what it is for.
class MemoryStore final : public IcpStore {
 public:
  Result<std::optional<Icp>> get(const GetIcpRequest& request) override {
    const std::shared_lock lock(mutex_);
    const auto found = icps_.find(request.id);
    if (found == icps_.end()) return std::optional<Icp>{};
    return std::optional<Icp>{found->second};
  }

  Result<void> write(const WriteIcpsRequest& request) override {
    const std::unique_lock lock(mutex_);
    if (auto problem = detail::check_batch(request, [&](std::string_view id) {
          return icps_.find(id) != icps_.end();
        })) {
      return *problem;
    }
    for (const auto& icp : request.icps) icps_.insert_or_assign(icp.id, icp);
    return {};
  }

  Result<bool> erase(const EraseIcpRequest& request) override {
    const std::unique_lock lock(mutex_);
    const auto found = icps_.find(request.id);
    if (found == icps_.end()) return false;
    icps_.erase(found);
    return true;
  }

  Result<std::vector<Icp>> list(const ListIcpsRequest& request) override {
    std::vector<const Icp*> matches;
    const std::shared_lock lock(mutex_);
    for (const auto& [id, icp] : icps_) {
      if (request.member &&
          std::ranges::find(icp.user_ids, *request.member) == icp.user_ids.end()) {
        continue;
      }
      if (request.after && !detail::listed_after(icp, *request.after)) continue;
      matches.push_back(&icp);
    }
    const auto count = std::min(request.limit, matches.size());
    std::ranges::partial_sort(matches, matches.begin() + static_cast<std::ptrdiff_t>(count),
                              [](const Icp* a, const Icp* b) { return detail::listed_before(*a, *b); });
    std::vector<Icp> page;
    page.reserve(count);
    for (std::size_t i = 0; i < count; ++i) page.push_back(*matches[i]);
    return page;
  }

 private:
  std::shared_mutex mutex_;
  std::map<std::string, Icp, std::less<>> icps_;
};

}  // namespace

std::shared_ptr<IcpStore> make_memory_store() { return std::make_shared<MemoryStore>(); }

}  // namespace icp
