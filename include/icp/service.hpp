#pragma once

// IcpService: authenticate, validate, load, authorise, act.

#include <icp/auth.hpp>
#include <icp/core_export.hpp>
#include <icp/error.hpp>
#include <icp/etag.hpp>
#include <icp/model.hpp>
#include <icp/store.hpp>

#include <boost/json/object.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace icp {

/// The current time, for `createdAt` and `updatedAt`.
using Clock = std::function<Timestamp()>;

/// The system clock, truncated to milliseconds.
[[nodiscard]] ICP_CORE_EXPORT Timestamp system_now();

/// How an update or delete without a revision asked for (no If-Match, or
/// `If-Match: *`) retries after a concurrent writer changed the ICP between
/// its read and its compare-and-swap. Each retry re-reads and re-checks
/// access. Waits are random ("full jitter"), up to a cap that doubles from
/// `initial_backoff` to `max_backoff`, so colliding writers fall out of step.
struct ICP_CORE_EXPORT RetryPolicy {
  /// Tries at most this often (1: never retries); then `conflict`.
  int max_attempts = 16;
  /// The cap of the first wait.
  std::chrono::microseconds initial_backoff{50};
  /// The largest cap.
  std::chrono::microseconds max_backoff{10'000};
  /// Waits on the caller's thread; tests inject their own. Empty:
  /// std::this_thread::sleep_for.
  std::function<void(std::chrono::microseconds)> sleep;

  /// The cap of the wait after `lost` lost attempts (0, 1, ...).
  [[nodiscard]] std::chrono::microseconds backoff_cap(int lost) const noexcept;
  /// The most a call can spend waiting: the sum of every cap, on top of
  /// `max_attempts` store round trips.
  [[nodiscard]] std::chrono::microseconds worst_case_delay() const noexcept;
};

/// How an IcpService behaves, fixed when it is made.
struct ServiceOptions {
  /// Answer `not_found` instead of `forbidden` to a caller without access, so
  /// that ids cannot be probed for existence (RFC 9110, section 15.5.4).
  bool conceal_existence = false;
  /// Where timestamps come from; tests inject their own. Empty: system_now.
  Clock clock;
  /// The most bytes an ICP may take as JSON (to_json) after a create or an
  /// update: successive PATCHes cannot grow one past what a body may carry,
  /// and every later read and listing stays bounded.
  std::size_t max_icp_bytes = std::size_t{1} << 20;
  /// Retries of writes that lost a compare-and-swap to a concurrent writer.
  RetryPolicy write_retry;
};

/// Which ICPs a listing covers.
enum class ListScope {
  mine,  ///< those whose user_ids hold the caller
  all,   ///< every ICP: admins only
};

/// ListOptions::limit when the caller gives none.
inline constexpr std::size_t kDefaultListLimit = 50;
/// The largest ListOptions::limit; a larger one is `bad_request`.
inline constexpr std::size_t kMaxListLimit = 500;

/// Which page of a listing IcpService::list() returns.
struct ListOptions {
  ListScope scope = ListScope::mine;      ///< `all` is `forbidden` to a caller who is not an admin
  std::size_t limit = kDefaultListLimit;  ///< 1..kMaxListLimit
  /// Where to continue: the `next_cursor` of the previous page; empty for the
  /// first page. Opaque; it stays valid while ICPs are created or deleted.
  std::string_view cursor;
  /// A page also stops once its ICPs hold this many bytes by listed_bytes()
  /// (it holds at least one): bounds what one page costs in memory.
  std::size_t max_bytes = std::numeric_limits<std::size_t>::max();
};

/// One page of a listing, newest `createdAt` first, ties by id.
struct IcpPage {
  std::vector<Icp> icps;  ///< this page's ICPs, at most ListOptions::limit; maybe none
  /// Present when there may be more: pass it as ListOptions::cursor.
  std::optional<std::string> next_cursor;
};

/// The cursor that continues a listing after `last` (IcpPage::next_cursor is
/// this for the page's last ICP), for a transport that cuts a page short.
[[nodiscard]] ICP_CORE_EXPORT std::string list_cursor_after(const Icp& last);

/// The ICP operations with the API's rules, over any IcpStore.
///
/// Cheap to copy (a shared_ptr and a small options struct); thread-safe when
/// the store is, which every shipped store is. Never throws: anything the store
/// throws becomes `internal`, with a message that names the operation and never
/// the store's own text.
///
/// `if_match` arguments take a precondition (parse_if_match reads one from
/// HTTP's If-Match): when it does not match the stored revision, the call
/// fails with `precondition_failed` and changes nothing.
class ICP_CORE_EXPORT IcpService {
 public:
  /// Serves the ICPs of `store`, which it shares and which must not be null.
  explicit IcpService(std::shared_ptr<IcpStore> store, ServiceOptions options = {});

  /// Get ICP: `unauthorized` for an anonymous caller (the store is not
  /// touched), `not_found` for an id that is not a UUID or has no ICP,
  /// `forbidden` for a caller who is neither listed nor admin.
  [[nodiscard]] Result<Icp> get(std::string_view id, const AuthContext& caller) const;

  /// The caller's ICPs (or, for an admin asking, all), a page at a time.
  [[nodiscard]] Result<IcpPage> list(const AuthContext& caller,
                                     const ListOptions& options = {}) const;

  /// Create ICP from a JSON body; the caller is added to `userIds`. Every
  /// problem of the body is one detail of the `bad_request`.
  [[nodiscard]] Result<Icp> create(const boost::json::object& body,
                                   const AuthContext& caller) const;
  /// As the other overload, from JSON text: text that is not a JSON object is `bad_request`.
  [[nodiscard]] Result<Icp> create(std::string_view body, const AuthContext& caller) const;

  /// Update ICP with a partial (PATCH) body, validated on the merged result
  /// after the 401/404/403 checks.
  [[nodiscard]] Result<Icp> update(std::string_view id, const boost::json::object& patch,
                                   const AuthContext& caller,
                                   const std::optional<IfMatch>& if_match = {}) const;
  /// As the other overload, from JSON text, parsed only after the access checks: text
  /// that is not a JSON object is `bad_request`.
  [[nodiscard]] Result<Icp> update(std::string_view id, std::string_view patch,
                                   const AuthContext& caller,
                                   const std::optional<IfMatch>& if_match = {}) const;

  /// The checks update() makes before it reads a patch (401, 404, 403, 412),
  /// for a transport that has not read a large body yet.
  [[nodiscard]] Result<void> check_update(std::string_view id, const AuthContext& caller,
                                          const std::optional<IfMatch>& if_match = {}) const;

  /// Delete ICP, permanently: members and admins.
  [[nodiscard]] Result<void> remove(std::string_view id, const AuthContext& caller,
                                    const std::optional<IfMatch>& if_match = {}) const;

  /// The options it was made with.
  [[nodiscard]] const ServiceOptions& options() const noexcept { return options_; }

 private:
  using Permission = bool (*)(const Icp&, const AuthContext&) noexcept;
  /// The ICP `id` if `caller` is `allowed` it: the 401, 404, 403 checks in order.
  [[nodiscard]] Result<Icp> load(std::string_view id, const AuthContext& caller,
                                 Permission allowed) const;
  /// load, then the If-Match check.
  [[nodiscard]] Result<Icp> load_for_write(std::string_view id, const AuthContext& caller,
                                           Permission allowed,
                                           const std::optional<IfMatch>& if_match) const;
  /// Update's merge and compare-and-swap, from `current` as loaded.
  [[nodiscard]] Result<Icp> merge_and_write(Icp current, const boost::json::object& patch,
                                            const AuthContext& caller,
                                            const std::optional<IfMatch>& if_match) const;
  [[nodiscard]] Timestamp now() const;

  std::shared_ptr<IcpStore> store_;
  ServiceOptions options_;
};

}  // namespace icp
