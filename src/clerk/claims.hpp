#pragma once

// Reading a verified token's claims, and the errors Clerk tokens are refused with.

#include <icp/error.hpp>

#include <boost/json/object.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace icp::detail {

/// `unauthorized` with Clerk's reason code first: `token-expired: ...`.
[[nodiscard]] Error reject(std::string_view reason, std::string_view why);

/// A NumericDate claim (seconds since the epoch, maybe fractional) in ms;
/// nullopt when absent, an error when present but not a number.
[[nodiscard]] Result<std::optional<double>> numeric_date_ms(const boost::json::object& claims,
                                                            std::string_view name);

/// Whole seconds of `ms`, for messages.
[[nodiscard]] std::string format_seconds(double ms);

/// The session's active organization: `o.id` (session token v2) or `org_id`
/// (v1); empty for a personal session. A claim of the wrong shape is refused
/// rather than read as "no organization".
[[nodiscard]] Result<std::string> active_organization(const boost::json::object& claims);

/// Whether the claim at `path` describes the active organization (Clerk's
/// `o` object of v2, `org_*` of v1): such a claim means nothing in a token
/// that names no organization.
[[nodiscard]] bool organization_scoped(std::string_view path);

/// Whether the claim at the dot-separated `path` is `value`, or an array
/// of strings holding it.
[[nodiscard]] bool claim_holds(const boost::json::object& claims, std::string_view path,
                               std::string_view value);

/// The value of cookie `name` in a Cookie header (`a=1; __session=xyz`),
/// without the quotes RFC 6265 allows around it.
[[nodiscard]] std::optional<std::string_view> cookie_value(std::string_view header,
                                                           std::string_view name);

}  // namespace icp::detail
