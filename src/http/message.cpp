// Requests and responses: header look-ups, and the error responses the
// adapter and transports send.
#include <icp/http/message.hpp>

#include "http/json_response.hpp"
#include "json/error_body.hpp"
#include "util/ascii.hpp"

#include <string>

namespace icp {

http::Response detail::json_response(int status, std::string body) {
  return http::Response{status, {{"Content-Type", "application/json"}}, std::move(body)};
}

}  // namespace icp

namespace icp::http {

using icp::detail::equals_ignoring_case;
using icp::detail::json_response;

std::vector<std::string_view> Request::header_values(std::string_view name) const {
  std::vector<std::string_view> values;
  for (const auto& [field, value] : headers) {
    if (equals_ignoring_case(field, name)) values.push_back(value);
  }
  return values;
}

std::string_view Response::header(std::string_view name) const {
  for (const auto& [field, value] : headers) {
    if (equals_ignoring_case(field, name)) return value;
  }
  return {};
}

Response error_response(int status, std::string_view code, std::string_view message) {
  return json_response(status, detail::error_body(code, message));
}

Response error_response(const Error& error) {
  auto response = json_response(http_status(error.code), error_body(error));
  if (error.code == Errc::unauthorized) response.headers.emplace_back("WWW-Authenticate", "Bearer");
  if (error.code == Errc::unavailable) {
    response.headers.emplace_back("Retry-After", std::to_string(kRetryAfterSeconds));
  }
  return response;
}

}  // namespace icp::http
