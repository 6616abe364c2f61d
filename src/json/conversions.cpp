// Boost.JSON conversions: boost::json::value_from(icp) and try_value_to<Icp>.
#include <icp/json.hpp>

#include "json/icp_rules.hpp"

#include <boost/json/value_from.hpp>

#include <cmath>

namespace icp {

namespace json = boost::json;

void tag_invoke(const json::value_from_tag&, json::value& value,
                const LeadProviderCriterion& criterion) {
  value = json::object{{"provider", criterion.provider},
                       {"type", criterion.type},
                       {"filters", criterion.filters.value()}};
}

void tag_invoke(const json::value_from_tag&, json::value& value,
                const CustomFilterCriterion& criterion) {
  json::object object{{"type", criterion.type}};
  // Integral values stay integers, so that 3 is written 3 and not 3.0; every
  // value lies within +-2^53, which an int64 holds exactly.
  if (criterion.value == std::floor(criterion.value) &&
      std::abs(criterion.value) <= detail::kMaxFilterMagnitude) {
    object["value"] = static_cast<std::int64_t>(criterion.value);
  } else {
    object["value"] = criterion.value;
  }
  value = std::move(object);
}

void tag_invoke(const json::value_from_tag&, json::value& value, const Icp& icp) {
  auto optional_timestamp = [](const std::optional<Timestamp>& at) -> json::value {
    if (!at) return nullptr;
    // Not `return {...}`: a braced json::value is an array.
    return json::value(format_timestamp(*at));  // NOLINT(modernize-return-braced-init-list)
  };
  json::object object;
  object["id"] = icp.id;
  object["name"] = icp.name;
  object["description"] = icp.description ? json::value(*icp.description) : json::value(nullptr);
  object["createdAt"] = format_timestamp(icp.created_at);
  object["updatedAt"] = format_timestamp(icp.updated_at);
  object["userIds"] = json::value_from(icp.user_ids);
  object["leadsPerList"] = icp.leads_per_list;
  object["activeUntil"] = optional_timestamp(icp.active_until);
  object["leadProviderCriteria"] = json::value_from(icp.lead_provider_criteria);
  object["customFilterCriteria"] = json::value_from(icp.custom_filter_criteria);
  if (icp.crm_filters) object["crmFilters"] = icp.crm_filters->value();
  value = std::move(object);
}

boost::system::result<Icp> tag_invoke(const json::try_value_to_tag<Icp>&,
                                      const json::value& value) {
  auto icp = icp_from_json(value);
  if (!icp) {  // icp_from_json says which field and why
    return boost::system::errc::make_error_code(boost::system::errc::invalid_argument);
  }
  return std::move(*icp);
}

}  // namespace icp
