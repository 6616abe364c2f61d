#pragma once

// The listing order every store keeps, and the bounds of one list call.

#include <icp/store.hpp>

#include <cstddef>

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

/// True when `icp` comes after `position` in listing order.
inline bool listed_after(const Icp& icp, const ListPosition& position) noexcept {
  if (icp.created_at != position.created_at) return icp.created_at < position.created_at;
  return icp.id > position.id;
}

}  // namespace icp::detail
