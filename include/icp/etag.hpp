#pragma once

// ETags: the revision of an ICP as an HTTP entity tag, and If-Match as a
// typed precondition that the service checks.

#include <icp/core_export.hpp>
#include <icp/model.hpp>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace icp {

/// A strong ETag for this revision of the ICP: `"` + 16 hex digits + `"`.
[[nodiscard]] ICP_CORE_EXPORT std::string etag_of(const Icp& icp);

/// What an If-Match precondition asks for (RFC 9110, section 13.1.1): any
/// current revision (`*`), or one of the revisions its entity tags name. It
/// holds when it names the stored revision; else the write is refused with
/// `precondition_failed` and nothing changes. A small value type.
class ICP_CORE_EXPORT IfMatch {
 public:
  /// `*`: the ICP must exist, at any revision.
  [[nodiscard]] static IfMatch any() { return {true, {}}; }
  /// The ICP must be at one of `revisions` (none: matches nothing).
  [[nodiscard]] static IfMatch one_of(std::vector<std::uint64_t> revisions) {
    return {false, std::move(revisions)};
  }
  /// Matches no revision: a precondition that names none of ours (weak or
  /// foreign tags, or a field that is not valid If-Match syntax).
  [[nodiscard]] static IfMatch nothing() { return {false, {}}; }

  /// Whether it holds for an ICP stored at `revision`.
  [[nodiscard]] bool matches(std::uint64_t revision) const noexcept;
  /// True only for any() (`*`).
  [[nodiscard]] bool is_any() const noexcept { return any_; }
  /// The revisions named, for `one_of`; empty for `any` and `nothing`.
  [[nodiscard]] const std::vector<std::uint64_t>& revisions() const noexcept { return revisions_; }

  /// Member-wise equality (one_of lists in another order differ).
  friend bool operator==(const IfMatch&, const IfMatch&) = default;

 private:
  IfMatch(bool any, std::vector<std::uint64_t> revisions)
      : any_(any), revisions_(std::move(revisions)) {}

  bool any_;
  std::vector<std::uint64_t> revisions_;
};

/// The precondition of a request's If-Match field values (several fields are
/// one list, RFC 9110 section 5.3): `*`, or a comma-separated list of entity
/// tags (empty elements allowed). Strong comparison: a weak tag (`W/"..."`)
/// matches nothing, and so does a tag that is not one etag_of writes. A
/// value that is not valid If-Match syntax (`*` inside a list, a tag without
/// quotes) is IfMatch::nothing(). Linear in the length of the values.
[[nodiscard]] ICP_CORE_EXPORT IfMatch
parse_if_match(std::span<const std::string_view> field_values);
/// The same, for a request with one If-Match field.
[[nodiscard]] ICP_CORE_EXPORT IfMatch parse_if_match(std::string_view field_value);

/// A new random, non-zero revision.
[[nodiscard]] ICP_CORE_EXPORT std::uint64_t new_revision();

}  // namespace icp
