#pragma once

// Test doubles for IcpStore (target icp::testing, never for production).

#include <icp/store.hpp>
#include <icp/testing_export.hpp>

#include <array>
#include <atomic>
#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace icp::testing {

/// The IcpStore call a fault or a count is about: get(), write(), erase() or
/// list() (check_health() and pool_stats() are neither failed nor counted).
enum class StoreOperation { get, write, erase, list };
/// The number of StoreOperation values.
inline constexpr std::size_t kStoreOperationCount = 4;

/// Passes every call to another store. Derive from it to change one call.
/// Thread-safe when the wrapped store is.
class ICP_TESTING_EXPORT ForwardingStore : public IcpStore {
 public:
  /// Forwards to `inner`, which it shares and which must not be null.
  explicit ForwardingStore(std::shared_ptr<IcpStore> inner) : inner_(std::move(inner)) {}

  Result<std::optional<Icp>> get(const GetIcpRequest& request) override {
    return inner_->get(request);
  }
  Result<void> write(const WriteIcpsRequest& request) override { return inner_->write(request); }
  Result<bool> erase(const EraseIcpRequest& request) override { return inner_->erase(request); }
  Result<std::vector<Icp>> list(const ListIcpsRequest& request) override {
    return inner_->list(request);
  }
  Result<void> check_health() override { return inner_->check_health(); }
  [[nodiscard]] std::optional<PoolStats> pool_stats() const override {
    return inner_->pool_stats();
  }

 protected:
  /// The wrapped store, for a derived class to call.
  [[nodiscard]] IcpStore& inner() const { return *inner_; }

 private:
  std::shared_ptr<IcpStore> inner_;
};

/// How an injected fault shows itself.
enum class FaultKind {
  error,        ///< the call returns an `internal` Error
  exception,    ///< the call throws std::runtime_error whose text looks like SQL
  unavailable,  ///< the call returns an `unavailable` Error, as a database that is down
};

/// Fails chosen operations on purpose, to test what callers make of store
/// failures. Thread-safe; faults can be armed while other threads call.
class ICP_TESTING_EXPORT FaultInjectingStore final : public ForwardingStore {
 public:
  /// The text of injected exceptions: SQL and a secret, which must never
  /// reach a caller.
  static constexpr std::string_view kExceptionText =
      "SELECT doc FROM icps WHERE password = 'hunter2' -- disk I/O error";

  using ForwardingStore::ForwardingStore;

  /// The next `times` calls of `operation` fail as `kind` (and do nothing).
  void inject(StoreOperation operation, FaultKind kind, std::size_t times = 1);
  /// Disarms every fault.
  void clear();

  Result<std::optional<Icp>> get(const GetIcpRequest& request) override;
  Result<void> write(const WriteIcpsRequest& request) override;
  Result<bool> erase(const EraseIcpRequest& request) override;
  Result<std::vector<Icp>> list(const ListIcpsRequest& request) override;

 private:
  struct Fault {
    FaultKind kind = FaultKind::error;
    std::size_t remaining = 0;
  };
  /// Throws, returns the injected Error, or returns nullopt to go ahead.
  std::optional<Error> trip(StoreOperation operation);

  std::mutex mutex_;
  std::array<Fault, kStoreOperationCount> faults_{};
};

/// One store call as the store received it, its views copied. Fields that
/// the operation has no use for keep their defaults.
struct RecordedCall {
  StoreOperation operation = StoreOperation::get;  ///< which call it was
  std::string organization;                        ///< get, erase, list
  std::string id;                                  ///< get, erase
  std::optional<std::string> member;               ///< get, list
  bool existence_only = false;                     ///< get
  std::vector<Icp> icps;                           ///< write
  WriteMode mode = WriteMode::upsert;              ///< write
  std::optional<std::uint64_t> expected_revision;  ///< write, erase
  std::optional<ListPosition> after;               ///< list
  std::size_t limit = 0;                           ///< list
  std::size_t max_bytes = 0;                       ///< list
};

/// Counts and records every call (check_health aside), then forwards it:
/// for tests of what a caller asks of its store.
class ICP_TESTING_EXPORT RecordingStore final : public ForwardingStore {
 public:
  using ForwardingStore::ForwardingStore;

  /// How many calls of `operation` arrived so far.
  [[nodiscard]] std::size_t calls(StoreOperation operation) const;
  /// How many calls of the four operations arrived so far.
  [[nodiscard]] std::size_t total_calls() const;
  /// Every call so far, in the order they arrived.
  [[nodiscard]] std::vector<RecordedCall> requests() const;

  Result<std::optional<Icp>> get(const GetIcpRequest& request) override;
  Result<void> write(const WriteIcpsRequest& request) override;
  Result<bool> erase(const EraseIcpRequest& request) override;
  Result<std::vector<Icp>> list(const ListIcpsRequest& request) override;

 private:
  void record(RecordedCall call);

  std::array<std::atomic<std::size_t>, kStoreOperationCount> calls_{};
  mutable std::mutex mutex_;
  std::vector<RecordedCall> requests_;
};

}  // namespace icp::testing
