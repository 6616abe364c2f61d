#pragma once

// icp-server's metrics, in the Prometheus text format (prometheus-cpp's
// registry and serializer): requests, latency, connections, store calls,
// the store's pool and the access log's drops.

#include <icp/error.hpp>
#include <icp/store.hpp>

#include "route_label.hpp"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <array>
#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

namespace icp::server {

/// The store calls counted, by `operation`.
enum class StoreCall { get, list, write, erase, check_health };
inline constexpr std::size_t kStoreCalls = 5;

/// Thread-safe. Counting a request costs a few atomic operations and a
/// histogram's lock: series are created once, on first use, then found by
/// index.
class Metrics {
 public:
  /// `base_path` names the API's routes in the `route` label.
  explicit Metrics(std::string_view base_path);

  void count_request(RouteLabel route, std::string_view method, int status,
                     std::chrono::microseconds duration);
  void connection_opened() { open_connections_->Increment(); }
  void connection_closed() { open_connections_->Decrement(); }
  /// `error`: nullopt for a call that succeeded.
  void count_store_call(StoreCall call, std::optional<Errc> error);

  /// The text of a scrape; `store`'s pool and the log's drops are read now.
  [[nodiscard]] std::string scrape(const IcpStore& store, std::uint64_t log_dropped);

  /// The Content-Type of scrape()'s text.
  static constexpr std::string_view kContentType = "text/plain; version=0.0.4; charset=utf-8";

 private:
  static constexpr std::size_t kMethods = 8;     // GET HEAD POST PUT PATCH DELETE OPTIONS other
  static constexpr std::size_t kStatuses = 500;  // 100..599
  static constexpr std::size_t kOutcomes = 9;    // ok and each Errc

  prometheus::Counter& request_counter(RouteLabel route, std::size_t method, int status);

  std::shared_ptr<prometheus::Registry> registry_;
  std::array<std::string, kRouteLabels> route_names_;
  prometheus::Family<prometheus::Counter>* requests_;
  prometheus::Family<prometheus::Counter>* store_calls_;
  std::array<prometheus::Histogram*, kRouteLabels> latency_{};
  prometheus::Gauge* open_connections_;
  prometheus::Gauge* pool_capacity_;
  prometheus::Gauge* pool_open_;
  prometheus::Gauge* pool_in_use_;
  prometheus::Counter* pool_waits_;
  prometheus::Counter* pool_timeouts_;
  prometheus::Counter* log_dropped_;

  /// Series made on first use; creating one takes `create_`.
  std::unique_ptr<
      std::array<std::atomic<prometheus::Counter*>, kRouteLabels * kMethods * kStatuses>>
      request_series_;
  std::array<std::atomic<prometheus::Counter*>, kStoreCalls * kOutcomes> store_series_{};
  std::mutex create_;

  std::mutex scrape_;  ///< one scrape at a time; guards the last values below
  std::uint64_t seen_waits_ = 0;
  std::uint64_t seen_timeouts_ = 0;
  std::uint64_t seen_dropped_ = 0;
};

/// Counts every call of the store it wraps, by operation and outcome.
class MeteredStore final : public IcpStore {
 public:
  MeteredStore(std::shared_ptr<IcpStore> inner, Metrics& metrics)
      : inner_(std::move(inner)), metrics_(metrics) {}

  Result<std::optional<Icp>> get(const GetIcpRequest& request) override;
  Result<void> write(const WriteIcpsRequest& request) override;
  Result<bool> erase(const EraseIcpRequest& request) override;
  Result<std::vector<Icp>> list(const ListIcpsRequest& request) override;
  Result<void> check_health() override;
  [[nodiscard]] std::optional<PoolStats> pool_stats() const override {
    return inner_->pool_stats();
  }

 private:
  /// Runs `call`, counting its outcome; a call that throws counts as internal.
  template <class Call>
  auto counted(StoreCall store_call, Call call) -> decltype(call()) {
    try {
      auto result = call();
      metrics_.count_store_call(store_call,
                                result ? std::nullopt : std::optional(result.error().code));
      return result;
    } catch (...) {
      metrics_.count_store_call(store_call, Errc::internal);
      throw;
    }
  }

  std::shared_ptr<IcpStore> inner_;
  Metrics& metrics_;
};

}  // namespace icp::server
