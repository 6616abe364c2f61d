#pragma once

// The errors every store answers alike, worded once.

#include <icp/error.hpp>

#include <fmt/format.h>

#include <string_view>

namespace icp::detail {

/// The error of a compare-and-swap that found another revision stored.
inline Error stale(std::string_view id) {
  return Error{Errc::precondition_failed,
               fmt::format("ICP {} has changed since the revision given; read it again", id)};
}

/// The error for a stored document that does not read as an ICP: changed
/// behind the store's back. Never the reader's message, which would quote
/// the stored text (a member's user id, a name) to whoever asked.
inline Error damaged_icp(std::string_view store) {
  return Error{Errc::internal,
               fmt::format("{} store: a stored ICP is damaged (not a valid ICP document); "
                           "restore it from a backup or delete it",
                           store)};
}

}  // namespace icp::detail
