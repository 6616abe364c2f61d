#include "metrics.hpp"

#include <fmt/format.h>
#include <prometheus/text_serializer.h>

namespace icp::server {

namespace {

constexpr std::array<std::string_view, 8> kMethodNames{"GET",   "HEAD",   "POST",    "PUT",
                                                       "PATCH", "DELETE", "OPTIONS", "other"};
constexpr std::array<std::string_view, kStoreCalls> kStoreCallNames{"get", "list", "write", "erase",
                                                                    "check_health"};

std::size_t method_index(std::string_view method) {
  for (std::size_t i = 0; i + 1 < kMethodNames.size(); ++i) {
    if (kMethodNames.at(i) == method) return i;
  }
  return kMethodNames.size() - 1;
}

/// 0 for success, else 1 + the Errc.
std::size_t outcome_index(std::optional<Errc> error) {
  return error ? 1 + static_cast<std::size_t>(*error) : 0;
}

std::string outcome_name(std::size_t index) {
  if (index == 0) return "ok";
  std::string name(code_name(static_cast<Errc>(index - 1)));
  for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return name == "internal_error" ? "internal" : name;
}

/// Latency buckets from 50 µs (a get on SQLite) to 10 s (the request timeout's range).
const prometheus::Histogram::BucketBoundaries kLatencyBuckets{
    0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
    0.05,    0.1,    0.25,    0.5,    1,     2.5,    5,     10};

}  // namespace

Metrics::Metrics(std::string_view base_path)
    : registry_(std::make_shared<prometheus::Registry>()),
      route_names_{std::string(base_path),
                   fmt::format("{}/{{id}}", base_path),
                   "/healthz",
                   "/readyz",
                   "/metrics",
                   "other"},
      request_series_(std::make_unique<std::array<std::atomic<prometheus::Counter*>,
                                                  kRouteLabels * kMethods * kStatuses>>()) {
  auto& registry = *registry_;
  requests_ = &prometheus::BuildCounter()
                   .Name("icp_http_requests_total")
                   .Help("HTTP requests answered, by route, method and status")
                   .Register(registry);
  auto& latency = prometheus::BuildHistogram()
                      .Name("icp_http_request_duration_seconds")
                      .Help("From a request's header read to its answer ready, by route")
                      .Register(registry);
  for (std::size_t route = 0; route < kRouteLabels; ++route) {
    latency_.at(route) = &latency.Add({{"route", route_names_.at(route)}}, kLatencyBuckets);
  }
  open_connections_ = &prometheus::BuildGauge()
                           .Name("icp_http_open_connections")
                           .Help("Client connections open now")
                           .Register(registry)
                           .Add({});
  store_calls_ = &prometheus::BuildCounter()
                      .Name("icp_store_calls_total")
                      .Help("Store calls by operation and outcome (ok or the error code)")
                      .Register(registry);
  auto gauge = [&](const char* name, const char* help) {
    return &prometheus::BuildGauge().Name(name).Help(help).Register(registry).Add({});
  };
  auto counter = [&](const char* name, const char* help) {
    return &prometheus::BuildCounter().Name(name).Help(help).Register(registry).Add({});
  };
  pool_capacity_ = gauge("icp_store_pool_capacity",
                         "Most connections the store's pool opens (0: no fixed bound)");
  pool_open_ = gauge("icp_store_pool_open", "Connections the store's pool holds open now");
  pool_in_use_ = gauge("icp_store_pool_in_use", "Connections serving a store call now");
  pool_waits_ = counter("icp_store_pool_waits_total", "Store calls that waited for a connection");
  pool_timeouts_ = counter("icp_store_pool_timeouts_total",
                           "Store calls that gave up waiting for a connection (503)");
  log_dropped_ = counter("icp_access_log_dropped_lines_total",
                         "Access log lines dropped: the output was blocked, slower than the "
                         "requests, or closed");
}

prometheus::Counter& Metrics::request_counter(RouteLabel route, std::size_t method, int status) {
  const auto status_slot = static_cast<std::size_t>(std::clamp(status, 100, 599) - 100);
  auto& slot = request_series_->at(
      (static_cast<std::size_t>(route) * kMethods + method) * kStatuses + status_slot);
  if (auto* counter = slot.load(std::memory_order_acquire)) return *counter;
  const std::lock_guard lock(create_);
  if (auto* counter = slot.load(std::memory_order_acquire)) return *counter;
  auto* counter = &requests_->Add({{"route", route_names_.at(static_cast<std::size_t>(route))},
                                   {"method", std::string(kMethodNames.at(method))},
                                   {"status", std::to_string(status)}});
  slot.store(counter, std::memory_order_release);
  return *counter;
}

void Metrics::count_request(RouteLabel route, std::string_view method, int status,
                            std::chrono::microseconds duration) {
  request_counter(route, method_index(method), status).Increment();
  latency_.at(static_cast<std::size_t>(route))
      ->Observe(std::chrono::duration<double>(duration).count());
}

void Metrics::count_store_call(StoreCall call, std::optional<Errc> error) {
  const auto outcome = outcome_index(error);
  auto& slot = store_series_.at(static_cast<std::size_t>(call) * kOutcomes + outcome);
  auto* counter = slot.load(std::memory_order_acquire);
  if (counter == nullptr) {
    const std::lock_guard lock(create_);
    counter = slot.load(std::memory_order_acquire);
    if (counter == nullptr) {
      counter = &store_calls_->Add(
          {{"operation", std::string(kStoreCallNames.at(static_cast<std::size_t>(call)))},
           {"outcome", outcome_name(outcome)}});
      slot.store(counter, std::memory_order_release);
    }
  }
  counter->Increment();
}

std::string Metrics::scrape(const IcpStore& store, std::uint64_t log_dropped) {
  const std::lock_guard lock(scrape_);
  // Counters only go up: what grew since the last scrape is added.
  if (const auto pool = store.pool_stats()) {
    pool_capacity_->Set(static_cast<double>(pool->capacity));
    pool_open_->Set(static_cast<double>(pool->open));
    pool_in_use_->Set(static_cast<double>(pool->in_use));
    pool_waits_->Increment(static_cast<double>(pool->waits - std::min(seen_waits_, pool->waits)));
    pool_timeouts_->Increment(
        static_cast<double>(pool->timeouts - std::min(seen_timeouts_, pool->timeouts)));
    seen_waits_ = std::max(seen_waits_, pool->waits);
    seen_timeouts_ = std::max(seen_timeouts_, pool->timeouts);
  }
  log_dropped_->Increment(static_cast<double>(log_dropped - std::min(seen_dropped_, log_dropped)));
  seen_dropped_ = std::max(seen_dropped_, log_dropped);
  return prometheus::TextSerializer().Serialize(registry_->Collect());
}

Result<std::optional<Icp>> MeteredStore::get(const GetIcpRequest& request) {
  return counted(StoreCall::get, [&] { return inner_->get(request); });
}

Result<void> MeteredStore::write(const WriteIcpsRequest& request) {
  return counted(StoreCall::write, [&] { return inner_->write(request); });
}

Result<bool> MeteredStore::erase(const EraseIcpRequest& request) {
  return counted(StoreCall::erase, [&] { return inner_->erase(request); });
}

Result<std::vector<Icp>> MeteredStore::list(const ListIcpsRequest& request) {
  return counted(StoreCall::list, [&] { return inner_->list(request); });
}

Result<void> MeteredStore::check_health() {
  return counted(StoreCall::check_health, [&] { return inner_->check_health(); });
}

}  // namespace icp::server
