#pragma once

// Create and Update bodies: the rules of docs/api.md on top of the ICP's own
// validation (icp_from_json), which both run on the complete result.

#include <icp/error.hpp>
#include <icp/model.hpp>

#include <boost/json/object.hpp>

#include <string>
#include <string_view>

namespace icp::detail {

/// The ICP a Create body describes: server-set `id`, `createdAt` and
/// `updatedAt` (a body that sends them is a bad request), defaults for what
/// it omits, and `creator` in `userIds` exactly once.
[[nodiscard]] Result<Icp> icp_from_create_body(const boost::json::object& body, std::string_view id,
                                               Timestamp now, std::string_view creator);

/// A body that is not a JSON object, as a `bad_request`.
[[nodiscard]] Error not_an_object();

/// `current` with a PATCH body merged in: absent keys stay, `null` clears
/// `description`, `activeUntil` and `crmFilters`, arrays are replaced whole;
/// `updatedAt` moves to `now`, or 1 ms past the current value if `now` is not
/// later; `userIds` may not become empty. The result is validated as a whole.
[[nodiscard]] Result<Icp> icp_from_patch(const Icp& current, const boost::json::object& patch,
                                         Timestamp now);

}  // namespace icp::detail
