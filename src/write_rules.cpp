#include <icp/store.hpp>

#include <fmt/format.h>

#include <set>
#include <string_view>
#include <utility>

namespace icp {

Result<void> validate(const WriteIcpsRequest& request) {
  if (request.expected_revision &&
      (request.icps.size() != 1 || request.mode != WriteMode::replace)) {
    return Error{Errc::bad_request, "an expected revision needs a replace of exactly one ICP"};
  }
  // Ordered (O(n log n) with no hash to attack); a batch is an import.
  std::set<std::pair<std::string_view, std::string_view>> seen;
  for (const auto& icp : request.icps) {
    if (!seen.emplace(icp.organization, icp.id).second) {
      return Error{Errc::bad_request, fmt::format("ICP {} appears twice in one write", icp.id)};
    }
  }
  return {};
}

}  // namespace icp
