#pragma once

// The ICP resource as the API describes it.

#include <icp/timestamp.hpp>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace icp {

/// The lead provider default used when a criterion omits `type`.
inline constexpr std::string_view kDefaultCriterionType = "person";
/// `leadsPerList` when a body omits it.
inline constexpr std::int32_t kDefaultLeadsPerList = 10;

/// One lead provider search configuration. `filters` is opaque to this
/// library: it is kept and returned as given (key order included).
struct LeadProviderCriterion {
  std::string provider;
  std::string type{kDefaultCriterionType};  ///< "person" or "company"
  boost::json::object filters;

  friend bool operator==(const LeadProviderCriterion&, const LeadProviderCriterion&) = default;
};

/// One post-retrieval filtering rule, `{type, value}`. Types this library
/// does not know are kept as they are.
struct CustomFilterCriterion {
  std::string type;
  double value = 0;

  friend bool operator==(const CustomFilterCriterion&, const CustomFilterCriterion&) = default;
};

/// An Ideal Customer Profile: every field of the Get ICP response.
///
/// A plain value type: copyable, comparable, and safe to share between threads
/// when nobody writes to it.
struct Icp {
  std::string id;  ///< canonical (lower-case) UUID
  std::string name;
  std::optional<std::string> description;  ///< null on the wire when absent
  Timestamp created_at{};
  Timestamp updated_at{};
  std::vector<std::string> user_ids;  ///< who may read and change it
  std::int32_t leads_per_list = kDefaultLeadsPerList;
  std::optional<Timestamp> active_until;  ///< null: never expires
  std::vector<LeadProviderCriterion> lead_provider_criteria;
  std::vector<CustomFilterCriterion> custom_filter_criteria;
  /// Tri-state, as the spec's `object | null | undefined`: nullopt is absent
  /// (the key is not written), a JSON null is null, else an object.
  std::optional<boost::json::value> crm_filters;

  friend bool operator==(const Icp&, const Icp&) = default;
};

}  // namespace icp
