#pragma once

// Rules every store shares: the listing order, and what makes a batch write fail.

#include <icp/store.hpp>

#include <fmt/format.h>

#include <optional>
#include <unordered_set>

namespace icp::detail {

/// Listing order: newest `created_at` first, ties by `id` ascending.
inline bool listed_before(const Icp& a, const Icp& b) noexcept {
  if (a.created_at != b.created_at) return a.created_at > b.created_at;
  return a.id < b.id;
}

/// True when `icp` comes after `position` in listing order.
inline bool listed_after(const Icp& icp, const ListPosition& position) noexcept {
  if (icp.created_at != position.created_at) return icp.created_at < position.created_at;
  return icp.id > position.id;
}

/// The error a batch write must fail with, given which ids exist already; nullopt
/// when the batch may be written. A batch naming one id twice is a bad request.
template <class Exists>
std::optional<Error> check_batch(const WriteIcpsRequest& request, Exists exists) {
  std::unordered_set<std::string_view> seen;
  for (const auto& icp : request.icps) {
    if (!seen.insert(icp.id).second) {
      return Error{Errc::bad_request, fmt::format("ICP {} appears twice in one write", icp.id)};
    }
    if (request.mode == WriteMode::insert && exists(icp.id)) {
      return Error{Errc::conflict, fmt::format("ICP already exists: {}", icp.id)};
    }
    if (request.mode == WriteMode::replace && !exists(icp.id)) {
      return Error{Errc::not_found, fmt::format("ICP not found: {}", icp.id)};
    }
  }
  return std::nullopt;
}

}  // namespace icp::detail
