#include "json/same_json.hpp"

#include <algorithm>
#include <cmath>

namespace icp::detail {

namespace {

namespace json = boost::json;

bool is_number(const json::value& value) noexcept {
  return value.is_int64() || value.is_uint64() || value.is_double();
}

bool same_number(const json::value& a, const json::value& b, Doubles doubles) noexcept {
  if (a.is_double() || b.is_double()) {
    auto as_double = [](const json::value& v) {
      if (v.is_int64()) return static_cast<double>(v.get_int64());
      if (v.is_uint64()) return static_cast<double>(v.get_uint64());
      return v.get_double();
    };
    const double x = as_double(a);
    const double y = as_double(b);
    return x == y || (doubles == Doubles::within_one_ulp && std::nextafter(x, y) == y);
  }
  if (a.is_int64() && b.is_int64()) return a.get_int64() == b.get_int64();
  if (a.is_uint64() && b.is_uint64()) return a.get_uint64() == b.get_uint64();
  const auto& signed_value = a.is_int64() ? a : b;  // one int64, one uint64
  const auto& unsigned_value = a.is_int64() ? b : a;
  return signed_value.get_int64() >= 0 &&
         static_cast<std::uint64_t>(signed_value.get_int64()) == unsigned_value.get_uint64();
}

}  // namespace

bool same_json(const json::value& a, const json::value& b, Doubles doubles) noexcept {
  if (is_number(a) && is_number(b)) return same_number(a, b, doubles);
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case json::kind::array: {
      const auto& x = a.get_array();
      const auto& y = b.get_array();
      return x.size() == y.size() &&
             std::equal(x.begin(), x.end(), y.begin(), [doubles](const auto& u, const auto& v) {
               return same_json(u, v, doubles);
             });
    }
    case json::kind::object: {
      const auto& x = a.get_object();
      const auto& y = b.get_object();
      return x.size() == y.size() &&
             std::ranges::all_of(x, [&y, doubles](const json::key_value_pair& member) {
               const auto* other = y.if_contains(member.key());
               return other != nullptr && same_json(member.value(), *other, doubles);
             });
    }
    default: return a == b;
  }
}

}  // namespace icp::detail
