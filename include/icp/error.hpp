#pragma once

// Errors as values: every fallible call returns Result<T>.

#include <icp/core_export.hpp>

#include <boost/system/result.hpp>
#include <fmt/format.h>

#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace icp {

/// What went wrong, in the API's terms; each maps to one HTTP status.
enum class Errc {
  bad_request,          ///< the input (a body, a query, a setting) is invalid: fix it first
  unauthorized,         ///< no valid credentials (the caller is not signed in)
  forbidden,            ///< signed in, but not allowed to do this
  not_found,            ///< no such ICP, or one hidden by ServiceOptions::conceal_existence
  conflict,             ///< the ICP exists already, or concurrent writers kept winning
  precondition_failed,  ///< If-Match (or an expected revision) names another revision
  /// May succeed if retried later: the database is unreachable or restarting,
  /// a connection pool stayed busy, SQLite stayed locked. HTTP 503 with
  /// `Retry-After`. Nothing was changed, except that a write whose commit was
  /// cut off may have been applied: read before retrying it.
  unavailable,
  internal,  ///< a bug or damaged data: retrying will not help
};

/// One problem with one field of a request body: `path` names the field
/// (`leadProviderCriteria[0].filters`), `message` says what is wrong with it.
struct ErrorDetail {
  std::string path;     ///< the field, or a query parameter's name; empty: the whole body
  std::string message;  ///< what is wrong with it, e.g. `expected a string, got number`

  /// Member-wise equality.
  friend bool operator==(const ErrorDetail&, const ErrorDetail&) = default;
};

/// An expected failure. `message` is meant for a person and never holds SQL
/// text or secrets; `details` lists every field problem of a bad request.
/// `fmt::format("{}", error)` prints `NOT_FOUND: ICP not found: <id>`, then
/// `; path: message` per detail.
struct Error {
  Errc code = Errc::internal;        ///< what kind of failure, and so the HTTP status
  std::string message;               ///< for a person; does not repeat the code
  std::vector<ErrorDetail> details;  ///< the library fills it for `bad_request` only

  Error() = default;
  /// An error of kind `c` saying `msg`, with the field problems `d`.
  Error(Errc c, std::string msg, std::vector<ErrorDetail> d = {})
      : code(c), message(std::move(msg)), details(std::move(d)) {}

  /// Member-wise equality.
  friend bool operator==(const Error&, const Error&) = default;
};

/// The value or the Error; `[[nodiscard]]` at every function returning it.
template <class T>
using Result = boost::system::result<T, Error>;

/// The HTTP status an Errc stands for (400, 401, 403, 404, 409, 412, 503, 500).
[[nodiscard]] ICP_CORE_EXPORT int http_status(Errc code) noexcept;

/// The wire name of an Errc: "BAD_REQUEST", ..., "UNAVAILABLE", "INTERNAL_ERROR".
[[nodiscard]] ICP_CORE_EXPORT std::string_view code_name(Errc code) noexcept;

/// The API's error body for `error`:
/// `{"error":{"code":...,"message":...[,"details":[{"path":...,"message":...}]]}}`.
[[nodiscard]] ICP_CORE_EXPORT std::string error_body(const Error& error);

/// Thrown only by `Result<T>::value()` on an error, for callers who prefer
/// exceptions; nothing else in the library throws.
class ICP_CORE_EXPORT Exception : public std::runtime_error {
 public:
  /// Carries `error`; what() is its fmt form (`NOT_FOUND: ...`).
  explicit Exception(Error error);
  /// The Error it carries.
  [[nodiscard]] const Error& error() const noexcept { return error_; }

 private:
  Error error_;
};

/// Found by ADL from boost::system::result<T, Error>::value().
[[noreturn]] ICP_CORE_EXPORT void throw_exception_from_error(
    const Error& error, const boost::source_location& location);

}  // namespace icp

/// \cond
// fmt support, not icp's API: hidden from Doxygen, which cannot place a
// specialization of a namespace (fmt) it never sees declared.

template <>
struct fmt::formatter<icp::Errc> : fmt::formatter<std::string_view> {
  template <class FormatContext>
  auto format(icp::Errc code, FormatContext& ctx) const {
    return fmt::formatter<std::string_view>::format(icp::code_name(code), ctx);
  }
};

/// Prints `NOT_FOUND: ICP not found: <id>`, then `; path: message` per detail.
template <>
struct fmt::formatter<icp::Error> {
  static constexpr auto parse(fmt::format_parse_context& ctx) { return ctx.begin(); }

  template <class FormatContext>
  auto format(const icp::Error& error, FormatContext& ctx) const {
    // NOLINTNEXTLINE(readability-qualified-auto): an output iterator, a pointer only by chance
    auto out = fmt::format_to(ctx.out(), "{}: {}", error.code, error.message);
    for (const auto& detail : error.details) {
      out = fmt::format_to(out, "; {}: {}", detail.path, detail.message);
    }
    return out;
  }
};
/// \endcond
