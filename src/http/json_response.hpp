#pragma once

// A response whose body is JSON: what every answer of the adapter is.

#include <icp/http/message.hpp>

#include <string>

namespace icp::detail {

/// `status` with `body` and `Content-Type: application/json`.
[[nodiscard]] http::Response json_response(int status, std::string body);

}  // namespace icp::detail
