#pragma once

// Umbrella header: model, access rules, JSON, service and stores.
// Declares the SQLite store too; calling it needs the icp::sqlite target.

#include <icp/access.hpp>
#include <icp/auth.hpp>
#include <icp/error.hpp>
#include <icp/etag.hpp>
#include <icp/id.hpp>
#include <icp/json.hpp>
#include <icp/model.hpp>
#include <icp/postgres_store.hpp>
#include <icp/service.hpp>
#include <icp/sqlite_store.hpp>
#include <icp/store.hpp>
#include <icp/timestamp.hpp>
#include <icp/version.hpp>
