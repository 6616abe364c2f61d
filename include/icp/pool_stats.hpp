#pragma once

// What a store reports of its connection pool, for a host's metrics
// (IcpStore::pool_stats()).

#include <cstddef>
#include <cstdint>

namespace icp {

/// A store's connection pool at one moment, for metrics.
struct PoolStats {
  std::size_t capacity = 0;    ///< most connections it opens; 0: no fixed bound
  std::size_t open = 0;        ///< connections open now, idle or in use
  std::size_t in_use = 0;      ///< connections serving a call now
  std::uint64_t waits = 0;     ///< calls that had to wait for a connection, ever
  std::uint64_t timeouts = 0;  ///< calls that gave up waiting (`unavailable`), ever
};

}  // namespace icp
