// Writing an ICP as the API returns it: to_json and append_json, in the
// layout icp_layout.hpp declares.
#include <icp/json.hpp>

#include "json/append.hpp"
#include "json/icp_layout.hpp"
#include "model/opaque_json.hpp"

namespace icp {

namespace {

namespace layout = detail::layout;

void append_quoted_timestamp(std::string& out, Timestamp at) {
  out.push_back('"');
  append_timestamp(out, at);
  out.push_back('"');
}

void append_optional_timestamp(std::string& out, const std::optional<Timestamp>& at) {
  if (at) {
    append_quoted_timestamp(out, *at);
  } else {
    out.append(layout::kNull);
  }
}

void append_criterion(std::string& out, const LeadProviderCriterion& criterion) {
  out.append(layout::kProvider);
  detail::append_json_string(out, criterion.provider);
  out.append(layout::kProviderType);
  detail::append_json_string(out, criterion.type);
  out.append(layout::kFilters);
  detail::append_opaque_json(out, criterion.filters);
  out.append(layout::kEnd);
}

void append_criterion(std::string& out, const CustomFilterCriterion& criterion) {
  out.append(layout::kCustomType);
  detail::append_json_string(out, criterion.type);
  out.append(layout::kCustomValue);
  detail::append_json_number(out, criterion.value);
  out.append(layout::kEnd);
}

}  // namespace

void append_json(std::string& out, const Icp& icp) {
  out.append(layout::kId);
  detail::append_json_string(out, icp.id);
  out.append(layout::kName);
  detail::append_json_string(out, icp.name);
  out.append(layout::kDescription);
  if (icp.description) {
    detail::append_json_string(out, *icp.description);
  } else {
    out.append(layout::kNull);
  }
  out.append(layout::kCreatedAt);
  append_quoted_timestamp(out, icp.created_at);
  out.append(layout::kUpdatedAt);
  append_quoted_timestamp(out, icp.updated_at);
  out.append(layout::kUserIds);
  detail::append_array(out, icp.user_ids, [](std::string& o, const std::string& user_id) {
    detail::append_json_string(o, user_id);
  });
  out.append(layout::kLeadsPerList);
  detail::append_json_number(out, std::int64_t{icp.leads_per_list});
  out.append(layout::kActiveUntil);
  append_optional_timestamp(out, icp.active_until);
  out.append(layout::kLeadProviderCriteria);
  detail::append_array(
      out, icp.lead_provider_criteria,
      [](std::string& o, const LeadProviderCriterion& c) { append_criterion(o, c); });
  out.append(layout::kCustomFilterCriteria);
  detail::append_array(
      out, icp.custom_filter_criteria,
      [](std::string& o, const CustomFilterCriterion& c) { append_criterion(o, c); });
  if (icp.crm_filters) {
    out.append(layout::kCrmFilters);
    detail::append_opaque_json(out, *icp.crm_filters);
  }
  out.append(layout::kEnd);
}

std::string to_json(const Icp& icp) {
  std::string out;
  out.reserve(1024);
  append_json(out, icp);
  return out;
}

}  // namespace icp
