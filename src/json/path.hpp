#pragma once

// How an error detail names where a value sits in a document:
// `leadProviderCriteria[0].filters.region`. Both the ICP reader and the
// checked parser build paths with these.

#include <fmt/format.h>

#include <cstddef>
#include <iterator>
#include <string>
#include <string_view>

namespace icp::detail {

/// Appends the step into array element `index`: `[index]`.
inline void append_path_index(std::string& path, std::size_t index) {
  fmt::format_to(std::back_inserter(path), "[{}]", index);
}

/// Appends the step into object member `key`: `.key`, or `key` at the start.
inline void append_path_key(std::string& path, std::string_view key) {
  if (!path.empty()) path.push_back('.');
  path.append(key);
}

}  // namespace icp::detail
