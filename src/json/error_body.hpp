#pragma once

// The API's error body with any code: also for the HTTP layer's errors that
// have no Errc. Exported for icp::http; carries no promise.

#include <icp/core_export.hpp>
#include <icp/error.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace icp::detail {

/// `{"error":{"code":...,"message":...[,"details":[...]]}}`, for any code
/// (HTTP's 405, 413, 415 have no Errc).
[[nodiscard]] ICP_CORE_EXPORT std::string error_body(std::string_view code,
                                                     std::string_view message,
                                                     const std::vector<ErrorDetail>& details = {});

}  // namespace icp::detail
