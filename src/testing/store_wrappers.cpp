#include <icp/testing/store_wrappers.hpp>

#include <stdexcept>

namespace icp::testing {

namespace {

std::size_t index(StoreOperation operation) { return static_cast<std::size_t>(operation); }

}  // namespace

void FaultInjectingStore::inject(StoreOperation operation, FaultKind kind, std::size_t times) {
  const std::lock_guard lock(mutex_);
  faults_.at(index(operation)) = Fault{kind, times};
}

void FaultInjectingStore::clear() {
  const std::lock_guard lock(mutex_);
  faults_.fill(Fault{});
}

std::optional<Error> FaultInjectingStore::trip(StoreOperation operation) {
  FaultKind kind{};
  {
    const std::lock_guard lock(mutex_);
    auto& fault = faults_.at(index(operation));
    if (fault.remaining == 0) return std::nullopt;
    --fault.remaining;
    kind = fault.kind;
  }
  if (kind == FaultKind::exception) throw std::runtime_error(std::string(kExceptionText));
  if (kind == FaultKind::unavailable) return Error{Errc::unavailable, "injected outage"};
  return Error{Errc::internal, "injected store fault"};
}

Result<std::optional<Icp>> FaultInjectingStore::get(const GetIcpRequest& request) {
  if (auto fault = trip(StoreOperation::get)) return *fault;
  return ForwardingStore::get(request);
}

Result<void> FaultInjectingStore::write(const WriteIcpsRequest& request) {
  if (auto fault = trip(StoreOperation::write)) return *fault;
  return ForwardingStore::write(request);
}

Result<bool> FaultInjectingStore::erase(const EraseIcpRequest& request) {
  if (auto fault = trip(StoreOperation::erase)) return *fault;
  return ForwardingStore::erase(request);
}

Result<std::vector<Icp>> FaultInjectingStore::list(const ListIcpsRequest& request) {
  if (auto fault = trip(StoreOperation::list)) return *fault;
  return ForwardingStore::list(request);
}

std::size_t RecordingStore::calls(StoreOperation operation) const {
  return calls_.at(index(operation)).load();
}

std::size_t RecordingStore::total_calls() const {
  std::size_t total = 0;
  for (const auto& count : calls_) total += count.load();
  return total;
}

std::vector<RecordedCall> RecordingStore::requests() const {
  const std::lock_guard lock(mutex_);
  return requests_;
}

void RecordingStore::record(RecordedCall call) {
  ++calls_.at(index(call.operation));
  const std::lock_guard lock(mutex_);
  requests_.push_back(std::move(call));
}

Result<std::optional<Icp>> RecordingStore::get(const GetIcpRequest& request) {
  record({.operation = StoreOperation::get,
          .organization = std::string(request.organization),
          .id = std::string(request.id),
          .member = request.member ? std::optional<std::string>(*request.member) : std::nullopt,
          .existence_only = request.existence_only});
  return ForwardingStore::get(request);
}

Result<void> RecordingStore::write(const WriteIcpsRequest& request) {
  record({.operation = StoreOperation::write,
          .icps = {request.icps.begin(), request.icps.end()},
          .mode = request.mode,
          .expected_revision = request.expected_revision});
  return ForwardingStore::write(request);
}

Result<bool> RecordingStore::erase(const EraseIcpRequest& request) {
  record({.operation = StoreOperation::erase,
          .organization = std::string(request.organization),
          .id = std::string(request.id),
          .expected_revision = request.expected_revision});
  return ForwardingStore::erase(request);
}

Result<std::vector<Icp>> RecordingStore::list(const ListIcpsRequest& request) {
  record({.operation = StoreOperation::list,
          .organization = std::string(request.organization),
          .member = request.member ? std::optional<std::string>(*request.member) : std::nullopt,
          .after = request.after,
          .limit = request.limit,
          .max_bytes = request.max_bytes});
  return ForwardingStore::list(request);
}

}  // namespace icp::testing
