#pragma once

// Which of the adapter's routes a request target names: text comparison for
// the plain targets every client sends, Boost.URL for the rest.

#include <icp/http/adapter.hpp>

#include <boost/url/params_view.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace icp::detail {

/// Which route a path names, and the item's id.
struct RouteMatch {
  http::Route route = http::Route::none;
  std::string id;  ///< decoded, for items
};

/// A request target matched against the routes.
struct Target {
  RouteMatch route;
  std::string_view path;  ///< still percent-encoded
  bool has_query = false;
  boost::urls::params_view params;  ///< of the query
};

/// Where the routes are mounted, parsed once (in the Adapter's constructor).
class BasePath {
 public:
  explicit BasePath(std::string_view path);

  /// What `target` names under the base path; nullopt for a target that is
  /// neither origin form nor absolute form.
  [[nodiscard]] std::optional<Target> match(std::string_view target) const;

 private:
  std::string path_;
  std::vector<std::string> segments_;  ///< decoded; empty: serves nothing
  /// A valid, plain base path: plain targets are matched as text.
  bool routes_text_ = false;
};

}  // namespace icp::detail
