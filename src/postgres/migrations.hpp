#pragma once

// Bringing a database's ICP schema to the version this build uses, or only
// checking that it is there.

#include <icp/error.hpp>

#include "postgres/connection.hpp"

#include <optional>

namespace icp::detail::postgres {

/// Checks the schema with SELECT alone first, so that a schema already at
/// kPostgresSchemaVersion needs no privilege beyond reading it and is found
/// on a hot standby too. Otherwise, with `allow_changes`, brings it there in
/// one transaction under the migration lock (creating the schema of
/// Session::schema_identifier only when missing); without, refuses with what
/// to run. A newer version or another application's `icps` table is refused
/// untouched. Nothing is set beyond the transaction (a transaction pooler
/// may hand the session on). Throws pg::Failure.
[[nodiscard]] std::optional<Error> migrate(const pg::Connection& db, const Session& session,
                                           bool allow_changes);

}  // namespace icp::detail::postgres
