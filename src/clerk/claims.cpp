#include "clerk/claims.hpp"

#include <icp/auth.hpp>
#include <icp/clerk.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace icp {

namespace json = boost::json;

Error detail::reject(std::string_view reason, std::string_view why) {
  return Error{Errc::unauthorized, fmt::format("{}: {}", reason, why)};
}

namespace detail {

Result<std::optional<double>> numeric_date_ms(const json::object& claims, std::string_view name) {
  const auto* value = claims.if_contains(name);
  if (value == nullptr) return std::optional<double>{};
  if (!value->is_number()) {
    return reject("token-invalid", fmt::format("the {} claim is not a number", name));
  }
  return std::optional<double>{value->to_number<double>() * 1000.0};
}

std::string format_seconds(double ms) { return fmt::format("{:.0f}", std::floor(ms / 1000.0)); }

Result<std::string> active_organization(const json::object& claims) {
  const auto invalid = [] {
    return reject("token-invalid",
                  fmt::format("the active organization (o.id or org_id) must be 1 to {} "
                              "characters of visible ASCII",
                              kMaxOrganizationBytes));
  };
  const json::value* v2 = nullptr;
  if (const auto* o = claims.if_contains("o")) {
    if (!o->is_object()) return invalid();
    v2 = o->get_object().if_contains("id");
  }
  const json::value* v1 = claims.if_contains("org_id");
  for (const auto* claim : {v2, v1}) {
    if (claim != nullptr && (!claim->is_string() || !is_valid_organization(claim->get_string()))) {
      return invalid();
    }
  }
  if (v2 != nullptr && v1 != nullptr && v2->get_string() != v1->get_string()) {
    return reject("token-invalid",
                  "the token names two different active organizations (o.id and org_id)");
  }
  const auto* active = v2 != nullptr ? v2 : v1;
  return active != nullptr ? std::string(active->get_string()) : std::string();
}

bool organization_scoped(std::string_view path) {
  const auto first = path.substr(0, path.find('.'));
  return first == "o" || first.starts_with("org_");
}

bool claim_holds(const json::object& claims, std::string_view path, std::string_view value) {
  const json::value* node = nullptr;
  const json::object* object = &claims;
  while (object != nullptr) {
    const auto dot = path.find('.');
    node = object->if_contains(path.substr(0, dot));
    if (node == nullptr || dot == std::string_view::npos) break;
    path.remove_prefix(dot + 1);
    object = node->if_object();
    node = nullptr;
  }
  if (node == nullptr) return false;
  if (const auto* text = node->if_string()) return *text == value;
  if (const auto* list = node->if_array()) {
    return std::ranges::any_of(*list, [&](const json::value& item) {
      const auto* text = item.if_string();
      return text != nullptr && *text == value;
    });
  }
  return false;
}

std::optional<std::string_view> cookie_value(std::string_view header, std::string_view name) {
  while (!header.empty()) {
    const auto end = header.find(';');
    auto pair = header.substr(0, end);
    header = end == std::string_view::npos ? std::string_view{} : header.substr(end + 1);
    while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
    if (pair.size() > name.size() && pair.starts_with(name) && pair[name.size()] == '=') {
      auto value = pair.substr(name.size() + 1);
      while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
      if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
        value = value.substr(1, value.size() - 2);
      }
      return value;
    }
  }
  return std::nullopt;
}

}  // namespace detail

namespace clerk {

Result<AdminClaim> AdminClaim::parse(std::string_view spec) {
  const auto equals = spec.find('=');
  if (equals == std::string_view::npos || equals == 0 || equals + 1 == spec.size()) {
    return Error{Errc::bad_request,
                 "an admin claim is PATH=VALUE, e.g. metadata.role=admin or o.rol=admin"};
  }
  const auto path = spec.substr(0, equals);
  if (path.front() == '.' || path.back() == '.' || path.find("..") != std::string_view::npos) {
    return Error{
        Errc::bad_request,
        fmt::format("admin claim path \"{}\": segments are separated by single dots", path)};
  }
  return AdminClaim{.path = std::string(path), .value = std::string(spec.substr(equals + 1))};
}

}  // namespace clerk

}  // namespace icp
