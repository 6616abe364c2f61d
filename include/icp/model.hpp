#pragma once

// The ICP resource as the API describes it.

#include <icp/core_export.hpp>
#include <icp/timestamp.hpp>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace icp {

/// The lead provider default used when a criterion omits `type`.
inline constexpr std::string_view kDefaultCriterionType = "person";
/// `leadsPerList` when a body omits it.
inline constexpr std::int32_t kDefaultLeadsPerList = 10;

namespace detail {
class OpaqueJsonState;
struct OpaqueJsonAccess;
}  // namespace detail

/// A JSON value this library keeps and returns as given (key order included)
/// without looking inside: `filters` and `crmFilters`. Immutable: copies share
/// one allocation, which keeps copying an Icp cheap; to change it, assign a
/// new value. Thread-safe to copy and read from many threads.
///
/// A value read from a store keeps its stored JSON text, which is what
/// to_json writes, and is parsed only when value() is first called: listing
/// and serving ICPs builds no tree that nobody looks at.
class ICP_CORE_EXPORT OpaqueJson {
 public:
  /// An empty object.
  OpaqueJson();
  // Implicit, so that `criterion.filters = boost::json::object{...}` reads naturally.
  /// A JSON object, as `filters` always is.
  OpaqueJson(boost::json::object object);  // NOLINT(google-explicit-constructor)
  /// Any JSON value, unchecked (the JSON readers refuse a `filters` that is not an object).
  OpaqueJson(boost::json::value value);  // NOLINT(google-explicit-constructor)
  /// JSON null, as in a `crmFilters` that is null.
  OpaqueJson(std::nullptr_t);  // NOLINT(google-explicit-constructor)

  /// The value. On a value read from a store, the first call parses its text
  /// (once, whichever thread comes first; noexcept: only running out of
  /// memory could fail, and that ends the program).
  [[nodiscard]] const boost::json::value& value() const noexcept;
  /// Same as value().
  const boost::json::value& operator*() const noexcept { return value(); }
  /// Same as &value().
  const boost::json::value* operator->() const noexcept { return &value(); }

  /// Equal when they are the same JSON: object key order aside, and numbers
  /// by value whatever their C++ kind (JSON has one number type, so `2.0`
  /// written out and read back as the integer 2 is still equal). Exact:
  /// doubles one unit in the last place apart differ, so equality is transitive.
  friend ICP_CORE_EXPORT bool operator==(const OpaqueJson& a, const OpaqueJson& b) noexcept;

 private:
  friend struct detail::OpaqueJsonAccess;
  explicit OpaqueJson(std::shared_ptr<const detail::OpaqueJsonState> state) noexcept;

  std::shared_ptr<const detail::OpaqueJsonState> state_;
};

/// One lead provider search configuration. `filters` is an opaque object.
struct LeadProviderCriterion {
  std::string provider;                     ///< which provider, e.g. `baseProvider`; not empty
  std::string type{kDefaultCriterionType};  ///< "person" or "company"
  OpaqueJson filters;                       ///< always a JSON object

  /// Member-wise equality (`filters` as OpaqueJson compares).
  friend bool operator==(const LeadProviderCriterion&, const LeadProviderCriterion&) = default;
};

/// One post-retrieval filtering rule, `{type, value}`. Types this library
/// does not know are kept as they are.
struct CustomFilterCriterion {
  /// Not empty. `maxPeoplePerCompany` and `minDaysUntilReuse` take an integer
  /// `value` from 0 to 2^53; other types any number.
  std::string type;
  double value = 0;  ///< within -2^53..2^53, where a double holds every integer

  /// Member-wise equality.
  friend bool operator==(const CustomFilterCriterion&, const CustomFilterCriterion&) = default;
};

/// An Ideal Customer Profile: every field of the Get ICP response.
///
/// A plain value type: copyable, comparable, and safe to share between threads
/// when nobody writes to it.
struct Icp {
  std::string id;  ///< canonical (lower-case) UUID
  /// `name`: not empty.
  std::string name;
  std::optional<std::string> description;  ///< null on the wire when absent
  Timestamp created_at{};  ///< `createdAt`: set by the service at create; a body may not set it
  /// `updatedAt`: set by the service at every write, always later than the
  /// one before; a body may not set it.
  Timestamp updated_at{};
  std::vector<std::string> user_ids;  ///< who may read and change it
  /// `leadsPerList`: 1 to 2^31-1; kDefaultLeadsPerList when a create body omits it.
  std::int32_t leads_per_list = kDefaultLeadsPerList;
  std::optional<Timestamp> active_until;  ///< null: never expires
  /// `leadProviderCriteria`: required in a create body.
  std::vector<LeadProviderCriterion> lead_provider_criteria;
  /// `customFilterCriteria`: empty when a create body omits it.
  std::vector<CustomFilterCriterion> custom_filter_criteria;
  /// Tri-state, as the spec's `object | null | undefined`: nullopt is absent
  /// (the key is not written), a JSON null is null, else an object.
  std::optional<OpaqueJson> crm_filters;
  /// Which write of this ICP this is: a new random value on every write, so
  /// it makes a strong ETag (see <icp/etag.hpp>). Not part of the JSON.
  std::uint64_t revision = 0;
  /// The organization (tenant) it belongs to, set at create from the
  /// caller's and never changed by an update; empty: no organization. Not
  /// part of the JSON: stores keep it beside the document.
  std::string organization;

  /// Member-wise equality, `revision` and `organization` included.
  friend bool operator==(const Icp&, const Icp&) = default;
};

}  // namespace icp
