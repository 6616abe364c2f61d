#pragma once

// The general ICP reader's internal entry points (the public ones are in
// <icp/json.hpp>).

#include <icp/error.hpp>
#include <icp/model.hpp>

#include <string_view>
#include <vector>

namespace icp::detail {

/// parse_icp, but a string holding U+0000 is read rather than refused: the
/// general reader of the stores' own documents, which may predate that rule.
[[nodiscard]] Result<Icp> parse_icp_keeping_nul(std::string_view text);

/// The `bad_request` for a body with these problems (at least one): the
/// message names the first and counts the rest.
[[nodiscard]] Error invalid_icp(std::vector<ErrorDetail> details);

}  // namespace icp::detail
