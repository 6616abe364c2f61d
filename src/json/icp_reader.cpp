// Reading an ICP from any text: the validating reader that names every
// problem's field (parse_icp and icp_from_json).
#include "json/icp_reader.hpp"

#include <icp/id.hpp>
#include <icp/json.hpp>

#include "json/checked_json.hpp"
#include "json/icp_rules.hpp"
#include "json/path.hpp"
#include "util/unique_strings.hpp"

#include <boost/json/monotonic_resource.hpp>
#include <fmt/format.h>

#include <array>
#include <limits>

namespace icp {

namespace json = boost::json;

namespace {

using detail::kMaxLeadsPerList;
using detail::kMinLeadsPerList;

/// Where a value sits in the document (`leadProviderCriteria[0].filters`).
/// A chain of views on the stack: the text is only built for a problem, so a
/// valid document costs no path formatting at all.
class Path {
 public:
  Path() = default;

  [[nodiscard]] Path member(std::string_view key) const { return {this, key, kNoIndex}; }
  [[nodiscard]] Path element(std::size_t index) const { return {this, {}, index}; }

  [[nodiscard]] std::string str() const {
    std::string out = parent_ != nullptr ? parent_->str() : std::string();
    if (index_ != kNoIndex) {
      detail::append_path_index(out, index_);
    } else if (!key_.empty()) {
      detail::append_path_key(out, key_);
    }
    return out;
  }

 private:
  static constexpr std::size_t kNoIndex = std::numeric_limits<std::size_t>::max();
  Path(const Path* parent, std::string_view key, std::size_t index)
      : parent_(parent), key_(key), index_(index) {}

  const Path* parent_ = nullptr;
  std::string_view key_;
  std::size_t index_ = kNoIndex;
};

/// Collects every problem found in a body, so that a caller fixes all at once.
class Problems {
 public:
  void add(const Path& path, std::string message) {
    details_.push_back(ErrorDetail{path.str(), std::move(message)});
  }
  [[nodiscard]] bool empty() const noexcept { return details_.empty(); }

  [[nodiscard]] Error to_error() && { return detail::invalid_icp(std::move(details_)); }

 private:
  std::vector<ErrorDetail> details_;
};

std::string_view kind_name(const json::value& value) {
  switch (value.kind()) {
    case json::kind::null: return "null";
    case json::kind::bool_: return "a boolean";
    case json::kind::int64:
    case json::kind::uint64:
    case json::kind::double_: return "a number";
    case json::kind::string: return "a string";
    case json::kind::array: return "an array";
    case json::kind::object: return "an object";
  }
  return "something else";
}

std::string expected(std::string_view what, const json::value& got) {
  return fmt::format("expected {}, got {}", what, kind_name(got));
}

std::optional<std::string> read_string(const json::value& value, const Path& path,
                                       Problems& problems) {
  const auto* string = value.if_string();
  if (string == nullptr) {
    problems.add(path, expected("a string", value));
    return std::nullopt;
  }
  return std::string(*string);
}

std::optional<std::string> read_non_empty_string(const json::value& value, const Path& path,
                                                 Problems& problems) {
  auto text = read_string(value, path, problems);
  if (text && text->empty()) {
    problems.add(path, "must not be empty");
    return std::nullopt;
  }
  return text;
}

std::optional<Timestamp> read_timestamp(const json::value& value, const Path& path,
                                        Problems& problems) {
  const auto* string = value.if_string();
  if (string == nullptr) {
    problems.add(path, expected("an RFC 3339 timestamp string", value));
    return std::nullopt;
  }
  auto parsed = parse_timestamp(*string);
  if (!parsed) {
    problems.add(path, parsed.error().message);
    return std::nullopt;
  }
  return *parsed;
}

std::optional<double> read_number(const json::value& value, const Path& path, Problems& problems) {
  switch (value.kind()) {
    case json::kind::int64: return static_cast<double>(value.get_int64());
    case json::kind::uint64: return static_cast<double>(value.get_uint64());
    case json::kind::double_: return value.get_double();
    default: problems.add(path, expected("a number", value)); return std::nullopt;
  }
}

/// Whether a custom filter value (any number; other kinds are reported
/// elsewhere) lies in the range a double holds exactly (icp_rules.hpp).
bool is_exact_filter_value(const json::value& value) {
  switch (value.kind()) {
    case json::kind::int64: return detail::is_exact_filter_value(value.get_int64());
    case json::kind::uint64: return detail::is_exact_filter_value(value.get_uint64());
    case json::kind::double_: return detail::is_exact_filter_value(value.get_double());
    default: return true;
  }
}

/// An integer in [min, max]; integral doubles (`25.0`) count, as in JavaScript.
std::optional<std::int64_t> read_integer(const json::value& value, const Path& path,
                                         std::int64_t min, std::int64_t max, std::string_view what,
                                         Problems& problems) {
  const auto number = read_number(value, path, problems);
  if (!number) return std::nullopt;
  if (!detail::is_integer_in(*number, min, max)) {
    problems.add(path, fmt::format("expected {}", what));
    return std::nullopt;
  }
  return static_cast<std::int64_t>(*number);
}

const json::object* read_object(const json::value& value, const Path& path, Problems& problems) {
  const auto* object = value.if_object();
  if (object == nullptr) problems.add(path, expected("an object", value));
  return object;
}

const json::array* read_array(const json::value& value, const Path& path, Problems& problems) {
  const auto* array = value.if_array();
  if (array == nullptr) problems.add(path, expected("an array", value));
  return array;
}

/// Calls `read_member(key, value, path)` for each member, which returns false
/// for a key it does not know; unknown keys are reported, never dropped.
template <class ReadMember>
void read_members(const json::object& object, const Path& path, Problems& problems,
                  ReadMember read_member) {
  for (const auto& member : object) {
    const Path member_at = path.member(member.key());
    if (!read_member(member.key(), member.value(), member_at)) {
      problems.add(member_at, "unknown field");
    }
  }
}

void require(bool present, const Path& path, std::string_view key, Problems& problems) {
  if (!present) problems.add(path.member(key), "is required");
}

std::vector<std::string> read_user_ids(const json::value& value, const Path& path,
                                       Problems& problems) {
  std::vector<std::string> user_ids;
  const auto* array = read_array(value, path, problems);
  if (array == nullptr) return user_ids;
  user_ids.reserve(array->size());
  detail::UniqueStrings seen(array->size());  // views into the JSON array, which outlives it
  for (std::size_t i = 0; i < array->size(); ++i) {
    const Path element_path = path.element(i);
    auto user_id = read_non_empty_string((*array)[i], element_path, problems);
    if (!user_id) continue;
    if (!seen.insert((*array)[i].get_string())) {
      problems.add(element_path, fmt::format("duplicate user id \"{}\"", *user_id));
      continue;
    }
    user_ids.push_back(std::move(*user_id));
  }
  return user_ids;
}

std::optional<LeadProviderCriterion> read_lead_provider_criterion(const json::value& value,
                                                                  const Path& path,
                                                                  Problems& problems) {
  const auto* object = read_object(value, path, problems);
  if (object == nullptr) return std::nullopt;
  LeadProviderCriterion criterion;
  bool has_provider = false;
  bool has_filters = false;
  read_members(*object, path, problems,
               [&](std::string_view key, const json::value& member, const Path& at) {
                 if (key == "provider") {
                   has_provider = true;
                   if (auto provider = read_non_empty_string(member, at, problems)) {
                     criterion.provider = std::move(*provider);
                   }
                 } else if (key == "type") {
                   auto type = read_string(member, at, problems);
                   if (type && !detail::is_criterion_type(*type)) {
                     problems.add(at, R"(expected "person" or "company")");
                   } else if (type) {
                     criterion.type = std::move(*type);
                   }
                 } else if (key == "filters") {
                   has_filters = true;
                   if (const auto* filters = read_object(member, at, problems)) {
                     criterion.filters = json::object(*filters, json::storage_ptr{});
                   }
                 } else {
                   return false;
                 }
                 return true;
               });
  require(has_provider, path, "provider", problems);
  require(has_filters, path, "filters", problems);
  return criterion;
}

std::optional<CustomFilterCriterion> read_custom_filter_criterion(const json::value& value,
                                                                  const Path& path,
                                                                  Problems& problems) {
  const auto* object = read_object(value, path, problems);
  if (object == nullptr) return std::nullopt;
  CustomFilterCriterion criterion;
  const json::value* raw_value = nullptr;
  bool has_type = false;
  read_members(*object, path, problems,
               [&](std::string_view key, const json::value& member, const Path& at) {
                 if (key == "type") {
                   has_type = true;
                   if (auto type = read_non_empty_string(member, at, problems)) {
                     criterion.type = std::move(*type);
                   }
                 } else if (key == "value") {
                   raw_value = &member;
                 } else {
                   return false;
                 }
                 return true;
               });
  require(has_type, path, "type", problems);
  require(raw_value != nullptr, path, "value", problems);
  if (raw_value == nullptr) return criterion;
  // The value's rule depends on the type, so it is read once both are known.
  const Path value_path = path.member("value");
  if (!is_exact_filter_value(*raw_value)) {
    problems.add(value_path, "must be within -2^53..2^53 (beyond it a number is stored rounded)");
    return criterion;
  }
  if (detail::is_integer_filter_type(criterion.type)) {
    if (auto integer = read_integer(*raw_value, value_path, 0, detail::kMaxFilterInteger,
                                    "a non-negative integer", problems)) {
      criterion.value = static_cast<double>(*integer);
    }
  } else if (auto number = read_number(*raw_value, value_path, problems)) {
    criterion.value = *number;
  }
  return criterion;
}

template <class Criterion, class ReadOne>
std::vector<Criterion> read_criteria(const json::value& value, const Path& path, Problems& problems,
                                     ReadOne read_one) {
  std::vector<Criterion> criteria;
  const auto* array = read_array(value, path, problems);
  if (array == nullptr) return criteria;
  criteria.reserve(array->size());
  for (std::size_t i = 0; i < array->size(); ++i) {
    if (auto criterion = read_one((*array)[i], path.element(i), problems)) {
      criteria.push_back(std::move(*criterion));
    }
  }
  return criteria;
}

Result<Icp> parse_icp_text(std::string_view text, detail::NulInStrings nul) {
  // Most ICPs fit this buffer, so parsing allocates nothing; the Icp copies
  // out what it keeps.
  std::array<unsigned char, 4096> buffer;  // NOLINT(cppcoreguidelines-pro-type-member-init)
  json::monotonic_resource resource(buffer.data(), buffer.size());
  auto value = detail::parse_checked_json(text, &resource, nul);
  if (!value) return value.error();
  return icp_from_json(*value);
}

}  // namespace

Result<Icp> icp_from_json(const json::value& value) {
  Problems problems;
  const auto* object = value.if_object();
  if (object == nullptr) {
    problems.add(Path{}, expected("an ICP object", value));
    return std::move(problems).to_error();
  }

  Icp icp;
  bool has_id = false;
  bool has_name = false;
  bool has_created_at = false;
  bool has_updated_at = false;
  bool has_user_ids = false;
  bool has_lead_provider_criteria = false;
  const Path root;
  read_members(
      *object, root, problems,
      [&](std::string_view key, const json::value& member, const Path& at) {
        if (key == "id") {
          has_id = true;
          const auto* text = member.if_string();
          auto id = text ? canonical_icp_id(*text) : std::nullopt;
          if (id) {
            icp.id = std::move(*id);
          } else {
            problems.add(at, "expected a UUID (8-4-4-4-12 hex digits)");
          }
        } else if (key == "name") {
          has_name = true;
          if (auto name = read_non_empty_string(member, at, problems)) {
            icp.name = std::move(*name);
          }
        } else if (key == "description") {
          if (!member.is_null()) icp.description = read_string(member, at, problems);
        } else if (key == "createdAt") {
          has_created_at = true;
          icp.created_at = read_timestamp(member, at, problems).value_or(Timestamp{});
        } else if (key == "updatedAt") {
          has_updated_at = true;
          icp.updated_at = read_timestamp(member, at, problems).value_or(Timestamp{});
        } else if (key == "userIds") {
          has_user_ids = true;
          icp.user_ids = read_user_ids(member, at, problems);
        } else if (key == "leadsPerList") {
          if (auto count = read_integer(member, at, kMinLeadsPerList, kMaxLeadsPerList,
                                        "a positive integer (at most 2147483647)", problems)) {
            icp.leads_per_list = static_cast<std::int32_t>(*count);
          }
        } else if (key == "activeUntil") {
          if (!member.is_null()) icp.active_until = read_timestamp(member, at, problems);
        } else if (key == "leadProviderCriteria") {
          has_lead_provider_criteria = true;
          icp.lead_provider_criteria = read_criteria<LeadProviderCriterion>(
              member, at, problems, read_lead_provider_criterion);
        } else if (key == "customFilterCriteria") {
          icp.custom_filter_criteria = read_criteria<CustomFilterCriterion>(
              member, at, problems, read_custom_filter_criterion);
        } else if (key == "crmFilters") {
          if (member.is_null() || read_object(member, at, problems) != nullptr) {
            icp.crm_filters = json::value(member, json::storage_ptr{});
          }
        } else {
          return false;
        }
        return true;
      });
  require(has_id, root, "id", problems);
  require(has_name, root, "name", problems);
  require(has_created_at, root, "createdAt", problems);
  require(has_updated_at, root, "updatedAt", problems);
  require(has_user_ids, root, "userIds", problems);
  require(has_lead_provider_criteria, root, "leadProviderCriteria", problems);
  if (!problems.empty()) return std::move(problems).to_error();
  return icp;
}

Result<Icp> parse_icp(std::string_view text) {
  return parse_icp_text(text, detail::NulInStrings::refuse);
}

Result<Icp> detail::parse_icp_keeping_nul(std::string_view text) {
  return parse_icp_text(text, NulInStrings::keep);
}

Error detail::invalid_icp(std::vector<ErrorDetail> details) {
  const auto& first = details.front();
  std::string message = first.path.empty()
                            ? fmt::format("invalid ICP: {}", first.message)
                            : fmt::format("invalid ICP: {}: {}", first.path, first.message);
  if (details.size() > 1) {
    message +=
        fmt::format(" (and {} more problem{})", details.size() - 1, details.size() == 2 ? "" : "s");
  }
  return Error{Errc::bad_request, std::move(message), std::move(details)};
}

}  // namespace icp
