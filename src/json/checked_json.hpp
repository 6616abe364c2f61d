#pragma once

// Parsing JSON from outside, with what Boost.JSON lets pass silently refused:
// it keeps the last of two equal keys in an object and reads numbers beyond
// a double (`1e700`) as infinity, which JSON cannot write back. An API that
// never drops or changes a field silently must notice both.

#include <icp/core_export.hpp>
#include <icp/error.hpp>

#include "util/unique_strings.hpp"

#include <boost/json/storage_ptr.hpp>
#include <boost/json/value.hpp>

#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace icp::detail {

/// Whether a string (or key) may hold U+0000.
enum class NulInStrings {
  refuse,  ///< input: no store keeps it alike (PostgreSQL cannot hold it)
  keep,    ///< a store's own documents, which may predate that rule
};

/// The value of `text`, built in one pass (Boost.JSON's parser and value
/// stack), its memory from `storage`. `bad_request` for malformed JSON (line
/// and column), a duplicate key, a number out of range or (unless kept) a
/// string holding U+0000, with its path (`leadProviderCriteria[0].filters.
/// region`). Time and memory are linear in the size of the text.
[[nodiscard]] Result<boost::json::value> parse_checked_json(
    std::string_view text, boost::json::storage_ptr storage,
    NulInStrings nul = NulInStrings::refuse);

/// parse_checked_json refusing U+0000: what the public parse_json does, into
/// a caller's memory resource (a monotonic buffer on the stack, say).
/// Exported for icp::clerk; carries no promise.
[[nodiscard]] ICP_CORE_EXPORT Result<boost::json::value> parse_json(
    std::string_view text, boost::json::storage_ptr storage);

/// The path of the first key that appears twice in one object of `text`, in
/// document order; nullopt when every key is unique or `text` is not JSON.
/// One pass, a hashed set of keys per open object.
[[nodiscard]] std::optional<std::string> find_duplicate_key(std::string_view text);

/// The keys of each open object while a parser walks a document, to notice
/// a key given twice in one object. Keys live on one stack (an object's keys
/// lie above its parent's), each object's checked by a UniqueStrings of its
/// own, so the cost stays linear however many keys an object has. The
/// stack is a deque, so that no key moves while views of it are held, and
/// it never shrinks: a slot is overwritten when the stack grows over it
/// again, so a reused KeySets allocates nothing for keys it has held before.
class KeySets {
 public:
  void open_object();
  void close_object();
  /// Adds `key` to the innermost open object; false if it was there already.
  [[nodiscard]] bool insert(std::string_view key);
  /// Forgets every object (a thread reuses one KeySets from part to part),
  /// keeping at most kKeptSlots key slots, so that what a thread holds after
  /// one large document is bounded.
  void clear() noexcept {
    used_ = 0;
    objects_.clear();
    if (keys_.size() > kKeptSlots) {
      keys_.erase(keys_.begin() + static_cast<std::ptrdiff_t>(kKeptSlots), keys_.end());
    }
  }

 private:
  struct Object {
    std::size_t first_key = 0;  // in keys_
    UniqueStrings keys;         // views into keys_
  };

  static constexpr std::size_t kKeptSlots = 64;

  std::deque<std::string> keys_;
  std::size_t used_ = 0;  ///< the keys of open objects: keys_[0, used_)
  std::vector<Object> objects_;
};

}  // namespace icp::detail
