#pragma once

// Parsing JSON from outside, with what Boost.JSON lets pass silently refused:
// it keeps the last of two equal keys in an object and reads numbers beyond
// a double (`1e700`) as infinity, which JSON cannot write back. An API that
// never drops or changes a field silently must notice both.

#include <icp/error.hpp>

#include "icp_rules.hpp"

#include <boost/json/storage_ptr.hpp>
#include <boost/json/value.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
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

/// The path of the first key that appears twice in one object of `text`, in
/// document order; nullopt when every key is unique or `text` is not JSON.
/// One pass, a hashed set of keys per open object.
[[nodiscard]] std::optional<std::string> find_duplicate_key(std::string_view text);

/// The keys of each open object while a parser walks a document, to notice
/// a key given twice in one object. Keys live on one stack (an object's keys
/// lie above its parent's); an object with many keys gets a hashed index, so
/// the cost stays linear however many keys an object has.
class KeySets {
 public:
  void open_object();
  void close_object();
  /// Adds `key` to the innermost open object; false if it was there already.
  [[nodiscard]] bool insert(std::string_view key);
  /// Forgets every object, keeping the memory for the next document.
  void clear() noexcept {
    keys_.clear();
    objects_.clear();
  }

 private:
  struct KeyHash {
    const std::vector<std::string>* keys;
    std::size_t operator()(std::size_t i) const noexcept { return KeyedHash{}((*keys)[i]); }
  };
  struct KeyEqual {
    const std::vector<std::string>* keys;
    bool operator()(std::size_t a, std::size_t b) const noexcept {
      return (*keys)[a] == (*keys)[b];
    }
  };
  using Index = std::unordered_set<std::size_t, KeyHash, KeyEqual>;
  struct Object {
    std::size_t first_key = 0;  // in keys_
    std::unique_ptr<Index> index;
  };

  std::vector<std::string> keys_;
  std::vector<Object> objects_;
};

}  // namespace icp::detail
