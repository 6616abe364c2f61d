#include <icp/service.hpp>

#include <icp/access.hpp>
#include <icp/id.hpp>

#include <fmt/format.h>

#include <exception>
#include <utility>

namespace icp {

namespace {

constexpr std::size_t kMaxListLimit = 500;

Error unauthorized() {
  return Error{Errc::unauthorized, "Sign in to access ICPs: the request carries no valid session"};
}

Error not_found(std::string_view id) {
  return Error{Errc::not_found, fmt::format("ICP not found: {}", id)};
}

/// Runs one store call; whatever it throws becomes `internal`. The message
/// names the operation, never the exception's text, which may hold SQL.
template <class Call>
auto call_store(std::string_view operation, Call call) -> decltype(call()) {
  try {
    return call();
  } catch (...) {
    return Error{Errc::internal, fmt::format("The ICP store failed to {}", operation)};
  }
}

}  // namespace

IcpService::IcpService(std::shared_ptr<IcpStore> store, ServiceOptions options)
    : store_(std::move(store)), options_(options) {}

Result<Icp> IcpService::get(std::string_view id, const AuthContext& caller) const {
  if (!caller.is_authenticated()) return unauthorized();
  const auto canonical_id = canonical_icp_id(id);
  if (!canonical_id) return not_found(id);  // a non-UUID can name no ICP

  auto loaded =
      call_store("read an ICP", [&] { return store_->get(GetIcpRequest{.id = *canonical_id}); });
  if (!loaded) return std::move(loaded).error();
  if (!loaded->has_value()) return not_found(*canonical_id);
  if (!can_read(**loaded, caller)) {
    if (options_.conceal_existence) return not_found(*canonical_id);
    return Error{Errc::forbidden, "You do not have access to this ICP"};
  }
  return std::move(**loaded);
}

Result<std::vector<Icp>> IcpService::list(const AuthContext& caller,
                                          const ListOptions& options) const {
  if (!caller.is_authenticated()) return unauthorized();
  if (options.scope == ListScope::all && !can_list_all(caller)) {
    return Error{Errc::forbidden, "Only admins may list every ICP"};
  }
  if (options.limit == 0 || options.limit > kMaxListLimit) {
    return Error{Errc::bad_request,
                 fmt::format("limit must be between 1 and {}", kMaxListLimit),
                 {ErrorDetail{"limit", fmt::format("must be between 1 and {}", kMaxListLimit)}}};
  }
  ListIcpsRequest request{.limit = options.limit};
  if (options.scope == ListScope::mine) request.member = caller.user_id();
  return call_store("list ICPs", [&] { return store_->list(request); });
}

}  // namespace icp
