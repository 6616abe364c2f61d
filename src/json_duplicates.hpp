#pragma once

// Boost.JSON keeps the last of two equal keys in an object and says nothing;
// an API that never drops a field silently must notice.

#include <optional>
#include <string>
#include <string_view>

namespace icp::detail {

/// The path (`leadProviderCriteria[0].filters.region`) of the first key that
/// appears twice in one object of `json`, which must already be valid JSON
/// (this scan does not validate it). nullopt when every key is unique.
[[nodiscard]] std::optional<std::string> find_duplicate_key(std::string_view json);

}  // namespace icp::detail
