#pragma once

// Umbrella header: model, access rules, JSON, service and the memory store,
// and the headers of every other component this installation was built
// with (<icp/config.hpp> says which). Each needs its target linked:
// icp::sqlite, icp::postgres, icp::http, icp::clerk.

#include <icp/access.hpp>
#include <icp/auth.hpp>
#include <icp/config.hpp>
#include <icp/error.hpp>
#include <icp/etag.hpp>
#include <icp/id.hpp>
#include <icp/json.hpp>
#include <icp/model.hpp>
#include <icp/service.hpp>
#include <icp/store.hpp>
#include <icp/timestamp.hpp>
#include <icp/version.hpp>

#if ICP_WITH_SQLITE
#include <icp/sqlite_store.hpp>
#endif
#if ICP_WITH_POSTGRES
#include <icp/postgres_store.hpp>
#endif
#if ICP_WITH_HTTP
#include <icp/http.hpp>
#endif
#if ICP_WITH_CLERK
#include <icp/clerk.hpp>
#endif
