#include <icp/model.hpp>
#include <icp/store.hpp>

#include "json_internal.hpp"
#include "json_writer.hpp"
#include "opaque_json.hpp"

#include <boost/json/parse.hpp>

#include <algorithm>
#include <cmath>

namespace icp {

namespace {

namespace json = boost::json;

bool is_number(const json::value& value) noexcept {
  return value.is_int64() || value.is_uint64() || value.is_double();
}

bool same_number(const json::value& a, const json::value& b, detail::Doubles doubles) noexcept {
  if (a.is_double() || b.is_double()) {
    auto as_double = [](const json::value& v) {
      if (v.is_int64()) return static_cast<double>(v.get_int64());
      if (v.is_uint64()) return static_cast<double>(v.get_uint64());
      return v.get_double();
    };
    const double x = as_double(a);
    const double y = as_double(b);
    return x == y || (doubles == detail::Doubles::within_one_ulp && std::nextafter(x, y) == y);
  }
  if (a.is_int64() && b.is_int64()) return a.get_int64() == b.get_int64();
  if (a.is_uint64() && b.is_uint64()) return a.get_uint64() == b.get_uint64();
  const auto& signed_value = a.is_int64() ? a : b;  // one int64, one uint64
  const auto& unsigned_value = a.is_int64() ? b : a;
  return signed_value.get_int64() >= 0 &&
         static_cast<std::uint64_t>(signed_value.get_int64()) == unsigned_value.get_uint64();
}

}  // namespace

bool detail::same_json(const json::value& a, const json::value& b, Doubles doubles) noexcept {
  if (is_number(a) && is_number(b)) return same_number(a, b, doubles);
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case json::kind::array: {
      const auto& x = a.get_array();
      const auto& y = b.get_array();
      return x.size() == y.size() &&
             std::equal(x.begin(), x.end(), y.begin(), [doubles](const auto& u, const auto& v) {
               return detail::same_json(u, v, doubles);
             });
    }
    case json::kind::object: {
      const auto& x = a.get_object();
      const auto& y = b.get_object();
      return x.size() == y.size() &&
             std::ranges::all_of(x, [&y, doubles](const json::key_value_pair& member) {
               const auto* other = y.if_contains(member.key());
               return other != nullptr && detail::same_json(member.value(), *other, doubles);
             });
    }
    default: return a == b;
  }
}

const json::value& detail::OpaqueJsonState::value() const noexcept {
  if (!text_.empty()) {
    std::call_once(parsed_, [this] {
      boost::system::error_code ec;
      value_ = json::parse(text_, ec);  // cannot fail: the text was checked when it was read
    });
  }
  return value_;
}

OpaqueJson detail::OpaqueJsonAccess::from_valid_text(std::string_view text) {
  return OpaqueJson(std::make_shared<const OpaqueJsonState>(OpaqueJsonState::ValidText{text}));
}

void detail::append_opaque_json(std::string& out, const OpaqueJson& opaque) {
  const auto& state = OpaqueJsonAccess::state(opaque);
  if (const auto text = state.text(); !text.empty()) {
    out.append(text);
  } else {
    append_json_value(out, state.value());
  }
}

OpaqueJson::OpaqueJson() {
  static const auto empty = std::make_shared<const detail::OpaqueJsonState>(json::object{});
  state_ = empty;
}

OpaqueJson::OpaqueJson(json::object object)
    : state_(std::make_shared<const detail::OpaqueJsonState>(std::move(object))) {}

OpaqueJson::OpaqueJson(json::value value)
    : state_(std::make_shared<const detail::OpaqueJsonState>(std::move(value))) {}

OpaqueJson::OpaqueJson(std::nullptr_t)
    : state_(std::make_shared<const detail::OpaqueJsonState>(nullptr)) {}

OpaqueJson::OpaqueJson(std::shared_ptr<const detail::OpaqueJsonState> state) noexcept
    : state_(std::move(state)) {}

const json::value& OpaqueJson::value() const noexcept { return state_->value(); }

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

bool operator==(const OpaqueJson& a, const OpaqueJson& b) noexcept {
  if (a.state_ == b.state_) return true;
  // Two values read from the same text are equal without parsing either.
  if (const auto text = a.state_->text(); !text.empty() && text == b.state_->text()) return true;
  return detail::same_json(a.value(), b.value());
}

}  // namespace icp
