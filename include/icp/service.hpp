#pragma once

// IcpService: authenticate, validate, load, authorise, act.

#include <icp/auth.hpp>
#include <icp/error.hpp>
#include <icp/model.hpp>
#include <icp/store.hpp>

#include <cstddef>
#include <memory>
#include <string_view>
#include <vector>

namespace icp {

struct ServiceOptions {
  /// Answer `not_found` instead of `forbidden` to a caller without access, so
  /// that ids cannot be probed for existence (RFC 9110, section 15.5.4).
  bool conceal_existence = false;
};

/// Which ICPs a listing covers.
enum class ListScope {
  mine,  ///< those whose user_ids hold the caller
  all,   ///< every ICP: admins only
};

struct ListOptions {
  ListScope scope = ListScope::mine;
  std::size_t limit = 50;
};

/// The ICP operations with the API's rules, over any IcpStore.
///
/// Cheap to copy (a shared_ptr and a small options struct); thread-safe when
/// the store is, which every shipped store is. Never throws: anything the store
/// throws becomes `internal`, with a message that names the operation and never
/// the store's own text.
class IcpService {
 public:
  explicit IcpService(std::shared_ptr<IcpStore> store, ServiceOptions options = {});

  /// Get ICP: `unauthorized` for an anonymous caller (the store is not
  /// touched), `not_found` for an id that is not a UUID or has no ICP,
  /// `forbidden` for a caller who is neither listed nor admin.
  [[nodiscard]] Result<Icp> get(std::string_view id, const AuthContext& caller) const;

  /// The caller's ICPs (or, for an admin asking, all), newest first.
  [[nodiscard]] Result<std::vector<Icp>> list(const AuthContext& caller,
                                              const ListOptions& options = {}) const;

  [[nodiscard]] const ServiceOptions& options() const noexcept { return options_; }

 private:
  std::shared_ptr<IcpStore> store_;
  ServiceOptions options_;
};

}  // namespace icp
