#pragma once

// The JSON wire format: camelCase keys in the spec's order, fixed timestamps,
// and validation that names the field and the reason for every problem.

#include <icp/core_export.hpp>
#include <icp/error.hpp>
#include <icp/model.hpp>

#include <boost/json/conversion.hpp>
#include <boost/json/value.hpp>

#include <string>
#include <string_view>

namespace icp {

/// The ICP as the API returns it: keys in the spec's order, no whitespace,
/// `crmFilters` only when present. Numbers inside opaque parts are written in
/// their shortest round-trip form, as JavaScript's JSON.stringify writes them.
[[nodiscard]] ICP_CORE_EXPORT std::string to_json(const Icp& icp);

/// Appends the to_json form to `out` (for writers that batch many ICPs).
ICP_CORE_EXPORT void append_json(std::string& out, const Icp& icp);

/// Parses one complete ICP object as the API returns it (id and timestamps
/// included). Any problem is `bad_request` with one detail per field, e.g.
/// `leadProviderCriteria[0].filters: expected an object`.
[[nodiscard]] ICP_CORE_EXPORT Result<Icp> parse_icp(std::string_view text);

/// As parse_icp, from an already parsed JSON value.
[[nodiscard]] ICP_CORE_EXPORT Result<Icp> icp_from_json(const boost::json::value& value);

/// Parses JSON text into a value; malformed text is `bad_request` saying where.
[[nodiscard]] ICP_CORE_EXPORT Result<boost::json::value> parse_json(std::string_view text);

// Boost.JSON conversions: `boost::json::value_from(icp)` and
// `boost::json::try_value_to<Icp>(jv)`. try_value_to only says that the
// value was invalid; icp_from_json says which field and why.

/// `value_from(icp)`: the object to_json writes, as a value.
ICP_CORE_EXPORT void tag_invoke(const boost::json::value_from_tag&, boost::json::value& value,
                                const Icp& icp);
/// `value_from(criterion)`: `{"provider", "type", "filters"}`.
ICP_CORE_EXPORT void tag_invoke(const boost::json::value_from_tag&, boost::json::value& value,
                                const LeadProviderCriterion& criterion);
/// `value_from(criterion)`: `{"type", "value"}`, an integral value as an integer.
ICP_CORE_EXPORT void tag_invoke(const boost::json::value_from_tag&, boost::json::value& value,
                                const CustomFilterCriterion& criterion);
/// `try_value_to<Icp>(value)`: icp_from_json, any problem only `invalid_argument`.
[[nodiscard]] ICP_CORE_EXPORT boost::system::result<Icp> tag_invoke(
    const boost::json::try_value_to_tag<Icp>&, const boost::json::value& value);

}  // namespace icp
