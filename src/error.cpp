#include <icp/error.hpp>

#include "json/error_body.hpp"

namespace icp {

int http_status(Errc code) noexcept {
  switch (code) {
    case Errc::bad_request: return 400;
    case Errc::unauthorized: return 401;
    case Errc::forbidden: return 403;
    case Errc::not_found: return 404;
    case Errc::conflict: return 409;
    case Errc::precondition_failed: return 412;
    case Errc::unavailable: return 503;
    case Errc::internal: return 500;
  }
  return 500;
}

std::string_view code_name(Errc code) noexcept {
  switch (code) {
    case Errc::bad_request: return "BAD_REQUEST";
    case Errc::unauthorized: return "UNAUTHORIZED";
    case Errc::forbidden: return "FORBIDDEN";
    case Errc::not_found: return "NOT_FOUND";
    case Errc::conflict: return "CONFLICT";
    case Errc::precondition_failed: return "PRECONDITION_FAILED";
    case Errc::unavailable: return "UNAVAILABLE";
    case Errc::internal: return "INTERNAL_ERROR";
  }
  return "INTERNAL_ERROR";
}

std::string error_body(const Error& error) {
  return detail::error_body(code_name(error.code), error.message, error.details);
}

Exception::Exception(Error error)
    : std::runtime_error(fmt::format("{}", error)), error_(std::move(error)) {}

void throw_exception_from_error(const Error& error, const boost::source_location& /*location*/) {
  throw Exception(error);
}

}  // namespace icp
