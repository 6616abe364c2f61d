#pragma once

// Reading the stores' own documents: the exact-layout reader (icp_layout.hpp)
// first, the general reader for anything else. Marked ICP_CORE_EXPORT for
// icp's other libraries (the stores), so a shared icp_core exports them;
// they carry no promise.

#include <icp/core_export.hpp>
#include <icp/error.hpp>
#include <icp/model.hpp>

#include <optional>
#include <string_view>

namespace icp::detail {

/// parse_icp for documents this library wrote itself (the hot path of every
/// store read): read_stored_icp first, else parse_icp_keeping_nul.
[[nodiscard]] ICP_CORE_EXPORT Result<Icp> parse_stored_icp(std::string_view text);

/// Reads a document in exactly to_json's layout (keys in its order, no
/// whitespace) without building a JSON tree; opaque parts keep their text and
/// are parsed only when looked at. Anything else is nullopt, never an error:
/// it accepts only what the general reader accepts, as the same ICP (custom
/// filter values are read exactly, where Boost.JSON 1.81 may land one unit in
/// the last place away).
[[nodiscard]] std::optional<Icp> read_stored_icp(std::string_view text);

}  // namespace icp::detail
