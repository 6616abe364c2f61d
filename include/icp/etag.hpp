#pragma once

// ETags: the revision of an ICP as an HTTP entity tag, for If-Match.

#include <icp/model.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace icp {

/// A strong ETag for this revision of the ICP: `"` + 16 hex digits + `"`.
[[nodiscard]] std::string etag_of(const Icp& icp);

/// What an If-Match value asks for.
struct IfMatch {
  /// nullopt for `*` (any current revision); else the revision it names.
  std::optional<std::uint64_t> revision;
};

/// Parses one If-Match value: `*` or a strong ETag as etag_of writes it.
/// Anything else (a weak `W/"..."` tag, a list, garbage) is nullopt: it can
/// match no revision, so the request fails its precondition.
[[nodiscard]] std::optional<IfMatch> parse_if_match(std::string_view value);

/// A new random, non-zero revision.
[[nodiscard]] std::uint64_t new_revision();

}  // namespace icp
