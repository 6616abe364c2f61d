#pragma once

// Rules every store shares: the listing order, and what makes a batch write fail.

#include <icp/store.hpp>

#include <fmt/format.h>

#include <optional>

namespace icp::detail {

/// Listing order: newest `created_at` first, ties by `id` ascending.
inline bool listed_before(const Icp& a, const Icp& b) noexcept {
  if (a.created_at != b.created_at) return a.created_at > b.created_at;
  return a.id < b.id;
}

/// A ListIcpsRequest's bounds, applied as a store reads: add() each ICP read,
/// and read another only while wants_more(). Past `max_bytes` it still wants
/// one more, which tells the service that more follow.
class ListBounds {
 public:
  explicit ListBounds(const ListIcpsRequest& request) noexcept
      : limit_(request.limit), max_bytes_(request.max_bytes) {}

  [[nodiscard]] bool wants_more() const noexcept {
    // The first ICP is a page of its own whatever its size; the one after it
    // still says whether more follow.
    return count_ < limit_ && (count_ <= 1 || held_before_last_ < max_bytes_);
  }
  void add(const Icp& icp) noexcept {
    held_before_last_ = held_;
    held_ += listed_bytes(icp);
    ++count_;
  }

 private:
  std::size_t limit_;
  std::size_t max_bytes_;
  std::size_t count_ = 0;
  std::size_t held_ = 0;
  std::size_t held_before_last_ = 0;
};

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

/// True when `icp` comes after `position` in listing order.
inline bool listed_after(const Icp& icp, const ListPosition& position) noexcept {
  if (icp.created_at != position.created_at) return icp.created_at < position.created_at;
  return icp.id > position.id;
}

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
