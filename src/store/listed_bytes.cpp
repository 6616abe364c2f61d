// listed_bytes: what a store counts an ICP as while it fills a list page.
#include <icp/store.hpp>

#include "model/opaque_json.hpp"

namespace icp {

namespace json = boost::json;

namespace {

/// `text` as a JSON string: quotes, and the escapes a writer may use (at
/// most six bytes for a control character, two for `"` and `\`).
std::size_t json_string_bytes(std::string_view text) noexcept {
  std::size_t bytes = text.size() + 2;
  for (const char c : text) {
    if (c == '"' || c == '\\') {
      bytes += 1;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      bytes += 5;
    }
  }
  return bytes;
}

/// An upper estimate of `value`'s length as JSON, without writing it:
/// numbers count as the longest a double or integer can be.
std::size_t estimated_json_bytes(const json::value& value) noexcept {
  constexpr std::size_t kLongestNumber = 24;
  switch (value.kind()) {
    case json::kind::string: return json_string_bytes(value.get_string());
    case json::kind::array: {
      std::size_t bytes = 2;
      for (const auto& element : value.get_array()) bytes += estimated_json_bytes(element) + 1;
      return bytes;
    }
    case json::kind::object: {
      std::size_t bytes = 2;
      for (const auto& member : value.get_object()) {
        bytes += json_string_bytes(member.key()) + 2 + estimated_json_bytes(member.value());
      }
      return bytes;
    }
    default: return kLongestNumber;
  }
}

std::size_t opaque_bytes(const OpaqueJson& opaque) noexcept {
  const auto& state = detail::OpaqueJsonAccess::state(opaque);
  const auto text = state.text();
  return text.empty() ? estimated_json_bytes(state.value()) : text.size();
}

}  // namespace

std::size_t listed_bytes(const Icp& icp) noexcept {
  // The field names, punctuation, timestamps and numbers of the spec's JSON.
  constexpr std::size_t kFixedBytes = 320;
  constexpr std::size_t kPerCriterion = 48;
  std::size_t bytes = kFixedBytes + json_string_bytes(icp.id) + json_string_bytes(icp.name) +
                      (icp.description ? json_string_bytes(*icp.description) : 0);
  for (const auto& user_id : icp.user_ids) bytes += json_string_bytes(user_id) + 1;
  for (const auto& criterion : icp.lead_provider_criteria) {
    bytes += kPerCriterion + json_string_bytes(criterion.provider) +
             json_string_bytes(criterion.type) + opaque_bytes(criterion.filters);
  }
  for (const auto& criterion : icp.custom_filter_criteria) {
    bytes += kPerCriterion + json_string_bytes(criterion.type);
  }
  if (icp.crm_filters) bytes += opaque_bytes(*icp.crm_filters);
  return bytes;
}

}  // namespace icp
