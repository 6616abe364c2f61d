#include <icp/auth.hpp>
#include <icp/store.hpp>

#include "util/utf8.hpp"

#include <boost/json/value.hpp>
#include <fmt/format.h>

#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace icp {

namespace {

/// What PostgreSQL cannot store as text: U+0000, bytes that are not UTF-8.
bool unstorable_text(std::string_view text) {
  return text.find('\0') != std::string_view::npos || !detail::is_utf8(text);
}

/// Whether any string or key of `root` holds U+0000 or bytes that are not UTF-8. Iterative: a value
/// built by hand may nest deeper than a parser would allow.
bool unstorable_text(const boost::json::value& root) {
  std::vector<const boost::json::value*> pending{&root};
  while (!pending.empty()) {
    const auto* value = pending.back();
    pending.pop_back();
    if (const auto* text = value->if_string()) {
      if (unstorable_text(std::string_view(*text))) return true;
    } else if (const auto* array = value->if_array()) {
      for (const auto& element : *array) pending.push_back(&element);
    } else if (const auto* object = value->if_object()) {
      for (const auto& member : *object) {
        if (unstorable_text(std::string_view(member.key()))) return true;
        pending.push_back(&member.value());
      }
    }
  }
  return false;
}

/// Why `icp` cannot be stored everywhere as it is; nullopt when it can.
std::optional<std::string> unstorable(const Icp& icp) {
  if (!icp.organization.empty() && !is_valid_organization(icp.organization)) {
    return fmt::format("its organization is not 1 to {} characters of visible ASCII",
                       kMaxOrganizationBytes);
  }
  for (const auto& user_id : icp.user_ids) {
    if (!is_valid_user_id(user_id)) {
      return fmt::format("a user id is not 1 to {} bytes of UTF-8 without control characters",
                         kMaxUserIdBytes);
    }
  }
  bool bad_text = unstorable_text(icp.id) || unstorable_text(icp.name) ||
                  (icp.description && unstorable_text(*icp.description)) ||
                  (icp.crm_filters && unstorable_text(icp.crm_filters->value()));
  for (const auto& criterion : icp.lead_provider_criteria) {
    bad_text = bad_text || unstorable_text(criterion.provider) || unstorable_text(criterion.type) ||
               unstorable_text(criterion.filters.value());
  }
  for (const auto& filter : icp.custom_filter_criteria)
    bad_text = bad_text || unstorable_text(filter.type);
  if (bad_text)
    return "a string holds U+0000 or bytes that are not UTF-8, which PostgreSQL cannot store";
  return std::nullopt;
}

}  // namespace

Result<void> validate(const WriteIcpsRequest& request) {
  if (request.expected_revision &&
      (request.icps.size() != 1 || request.mode != WriteMode::replace)) {
    return Error{Errc::bad_request, "an expected revision needs a replace of exactly one ICP"};
  }
  // Ordered (O(n log n) with no hash to attack); a batch is an import.
  std::set<std::pair<std::string_view, std::string_view>> seen;
  for (const auto& icp : request.icps) {
    if (auto why = unstorable(icp)) {
      // The id is shown only when it is printable: it may be the problem.
      return Error{Errc::bad_request,
                   unstorable_text(icp.id)
                       ? fmt::format("an ICP cannot be stored: {}", *why)
                       : fmt::format("ICP {} cannot be stored: {}", icp.id, *why)};
    }
    if (!seen.emplace(icp.organization, icp.id).second) {
      return Error{Errc::bad_request, fmt::format("ICP {} appears twice in one write", icp.id)};
    }
  }
  return {};
}

}  // namespace icp
