// Writing an ICP as the API returns it: to_json and append_json.
#include <icp/json.hpp>

#include "json_writer.hpp"
#include "opaque_json.hpp"

namespace icp {

namespace {

void append_quoted_timestamp(std::string& out, Timestamp at) {
  out.push_back('"');
  append_timestamp(out, at);
  out.push_back('"');
}

void append_optional_timestamp(std::string& out, const std::optional<Timestamp>& at) {
  if (at) {
    append_quoted_timestamp(out, *at);
  } else {
    out.append("null");
  }
}

void append_criterion(std::string& out, const LeadProviderCriterion& criterion) {
  out.append(R"({"provider":)");
  detail::append_json_string(out, criterion.provider);
  out.append(R"(,"type":)");
  detail::append_json_string(out, criterion.type);
  out.append(R"(,"filters":)");
  detail::append_opaque_json(out, criterion.filters);
  out.push_back('}');
}

void append_criterion(std::string& out, const CustomFilterCriterion& criterion) {
  out.append(R"({"type":)");
  detail::append_json_string(out, criterion.type);
  out.append(R"(,"value":)");
  detail::append_json_number(out, criterion.value);
  out.push_back('}');
}

}  // namespace

void append_json(std::string& out, const Icp& icp) {
  out.append(R"({"id":)");
  detail::append_json_string(out, icp.id);
  out.append(R"(,"name":)");
  detail::append_json_string(out, icp.name);
  out.append(R"(,"description":)");
  if (icp.description) {
    detail::append_json_string(out, *icp.description);
  } else {
    out.append("null");
  }
  out.append(R"(,"createdAt":)");
  append_quoted_timestamp(out, icp.created_at);
  out.append(R"(,"updatedAt":)");
  append_quoted_timestamp(out, icp.updated_at);
  out.append(R"(,"userIds":)");
  detail::append_array(out, icp.user_ids, [](std::string& o, const std::string& user_id) {
    detail::append_json_string(o, user_id);
  });
  out.append(R"(,"leadsPerList":)");
  detail::append_json_number(out, std::int64_t{icp.leads_per_list});
  out.append(R"(,"activeUntil":)");
  append_optional_timestamp(out, icp.active_until);
  out.append(R"(,"leadProviderCriteria":)");
  detail::append_array(
      out, icp.lead_provider_criteria,
      [](std::string& o, const LeadProviderCriterion& c) { append_criterion(o, c); });
  out.append(R"(,"customFilterCriteria":)");
  detail::append_array(
      out, icp.custom_filter_criteria,
      [](std::string& o, const CustomFilterCriterion& c) { append_criterion(o, c); });
  if (icp.crm_filters) {
    out.append(R"(,"crmFilters":)");
    detail::append_opaque_json(out, *icp.crm_filters);
  }
  out.push_back('}');
}

std::string to_json(const Icp& icp) {
  std::string out;
  out.reserve(1024);
  append_json(out, icp);
  return out;
}

}  // namespace icp
