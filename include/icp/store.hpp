#pragma once

// IcpStore: the one abstract seam between the service and storage.

#include <icp/core_export.hpp>
#include <icp/error.hpp>
#include <icp/model.hpp>
#include <icp/pool_stats.hpp>

#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace icp {

/// What IcpStore::get() looks up: one ICP, by organization and id. Views:
/// what they point to must outlive the call.
struct GetIcpRequest {
  std::string_view id;  ///< canonical (lower-case) id
  /// When set, the ICP only if its user_ids hold this user, else nullopt as
  /// for a missing one. Stores decide it from their membership index before
  /// reading the document, so that a caller without access cannot tell a
  /// large ICP from a missing one by the time an answer takes.
  std::optional<std::string_view> member;
  /// Only whether the ICP exists: a store may answer with just its id and
  /// revision, without reading (or failing to read) the document.
  bool existence_only = false;
  /// Only an ICP of this organization: one of another is missing.
  std::string_view organization;
};

/// How IcpStore::write() treats ICPs that exist already.
enum class WriteMode {
  insert,   ///< every ICP must be new, else `conflict`
  replace,  ///< every ICP must exist, else `not_found`
  upsert,   ///< insert or replace each
};

/// Writes a batch of ICPs, each with the revision and the organization it
/// carries: all of them, or none when any fails. Check a batch you make with
/// validate() first: stores rely on it and do not check again. An ICP is named by its
/// organization and id together: the same id in another organization is
/// another ICP (insert does not conflict with it, replace does not find it).
struct WriteIcpsRequest {
  std::span<const Icp> icps;           ///< the batch; a view, it must outlive the call
  WriteMode mode = WriteMode::upsert;  ///< how ICPs that exist already are treated
  /// Compare-and-swap, for a batch of one ICP in `replace` mode: write only if
  /// the stored revision still equals this, else `precondition_failed`.
  std::optional<std::uint64_t> expected_revision;
};

/// The rules of a batch that need no stored state, checked once above every
/// store: no ICP (organization and id) twice, an expected revision only for
/// a `replace` of exactly one ICP, and in every ICP only what every store can
/// keep: no U+0000 in any string (filters included), user ids by
/// is_valid_user_id() and an organization empty or by
/// is_valid_organization(). `bad_request` naming the problem.
/// IcpService checks its writes with it; call it before IcpStore::write()
/// with a batch of your own (an import, say).
[[nodiscard]] ICP_CORE_EXPORT Result<void> validate(const WriteIcpsRequest& request);

/// What IcpStore::erase() removes: one ICP, by organization and id. Views:
/// what they point to must outlive the call.
struct EraseIcpRequest {
  std::string_view id;  ///< canonical (lower-case) id
  /// Erase only if the stored revision still equals this, else
  /// `precondition_failed` (and nothing is erased).
  std::optional<std::uint64_t> expected_revision;
  std::string_view organization;  ///< only an ICP of this organization
};

/// Where a listing stands: the last ICP of the previous page.
struct ListPosition {
  Timestamp created_at{};  ///< that ICP's `created_at`
  std::string id;          ///< that ICP's id, canonical

  /// Member-wise equality.
  friend bool operator==(const ListPosition&, const ListPosition&) = default;
};

/// ICPs ordered by `created_at` newest first, ties by `id` ascending.
struct ListIcpsRequest {
  std::optional<std::string_view> member;  ///< only ICPs whose user_ids hold it; nullopt: all
  std::optional<ListPosition> after;       ///< start after this position
  /// At most this many ICPs. The service asks for one more than its page, to
  /// learn whether more follow.
  std::size_t limit = 50;
  /// A bound on what one call holds, by listed_bytes(): read ICPs until
  /// `limit`, or until those before the last one read hold `max_bytes`. The
  /// one past the bound tells the service that more follow. Stores should
  /// honour it (the service cuts the page either way; the bound is on memory).
  std::size_t max_bytes = std::numeric_limits<std::size_t>::max();
  std::string_view organization;  ///< only ICPs of this organization
};

/// About the length of `icp` as JSON, without writing it: what
/// ListIcpsRequest::max_bytes and ListOptions::max_bytes count.
[[nodiscard]] ICP_CORE_EXPORT std::size_t listed_bytes(const Icp& icp) noexcept;

/// Storage of ICPs. The store never sees who is calling: access rules live in
/// the service. Ids it receives are canonical. Organizations partition it:
/// every request names one, and nothing of another is read, changed or
/// confirmed; indexes should lead with it.
///
/// Every implementation must be safe to call from many threads at once and
/// pass the conformance suite in <icp/testing/store_conformance.hpp>. A store
/// may throw; the service turns anything thrown into an `internal` error.
class ICP_CORE_EXPORT IcpStore {
 public:
  IcpStore() = default;
  IcpStore(const IcpStore&) = delete;
  IcpStore& operator=(const IcpStore&) = delete;
  IcpStore(IcpStore&&) = delete;
  IcpStore& operator=(IcpStore&&) = delete;
  virtual ~IcpStore() = default;

  /// The ICP, nullopt when there is none with that id.
  [[nodiscard]] virtual Result<std::optional<Icp>> get(const GetIcpRequest& request) = 0;
  /// Atomic: on any error nothing of the batch is written.
  [[nodiscard]] virtual Result<void> write(const WriteIcpsRequest& request) = 0;
  /// True when an ICP was erased, false when there was none.
  [[nodiscard]] virtual Result<bool> erase(const EraseIcpRequest& request) = 0;
  /// The ICPs that `request` selects, in its order, within its `limit` and
  /// `max_bytes`; none when no more follow.
  [[nodiscard]] virtual Result<std::vector<Icp>> list(const ListIcpsRequest& request) = 0;

  /// Whether the store can serve: a cheap call to its database (for a
  /// health check); an error says what is wrong. The default says yes.
  [[nodiscard]] virtual Result<void> check_health() { return {}; }
  /// Its connection pool, for metrics; nullopt for a store without one.
  [[nodiscard]] virtual std::optional<PoolStats> pool_stats() const { return std::nullopt; }
};

/// A store in process memory: fast, thread-safe (readers share a lock),
/// gone when the last reference goes. The store for unit tests.
[[nodiscard]] ICP_CORE_EXPORT std::shared_ptr<IcpStore> make_memory_store();

}  // namespace icp
