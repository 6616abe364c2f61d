#pragma once

// Bringing a database's ICP schema to the version this build uses.

#include <icp/error.hpp>

#include "postgres/connection.hpp"

#include <optional>

namespace icp::detail::postgres {

/// Brings the schema to kPostgresSchemaVersion in one transaction under the
/// migration lock; a newer version or another application's `icps` table is
/// refused untouched. Throws pg::Failure.
[[nodiscard]] std::optional<Error> migrate(const pg::Connection& db, const Session& session);

}  // namespace icp::detail::postgres
