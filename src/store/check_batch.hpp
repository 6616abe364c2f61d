#pragma once

// What makes a batch write fail, the same in every store.

#include <icp/store.hpp>

#include "store/errors.hpp"

#include <fmt/format.h>

#include <cstdint>
#include <optional>

namespace icp::detail {

/// The error a batch write must fail with, given each ICP's stored revision
/// (`stored_revision(icp)`, by its organization and id; nullopt: no such ICP);
/// nullopt when the batch may be written. The batch passed validate().
template <class StoredRevision>
std::optional<Error> check_batch(const WriteIcpsRequest& request, StoredRevision stored_revision) {
  for (const auto& icp : request.icps) {
    const std::optional<std::uint64_t> stored = stored_revision(icp);
    if (request.mode == WriteMode::insert && stored) {
      return Error{Errc::conflict, fmt::format("ICP already exists: {}", icp.id)};
    }
    if (request.mode == WriteMode::replace && !stored) {
      return Error{Errc::not_found, fmt::format("ICP not found: {}", icp.id)};
    }
    if (request.expected_revision && stored != request.expected_revision) {
      return stale(icp.id);
    }
  }
  return std::nullopt;
}

}  // namespace icp::detail
