#include "http/list_query.hpp"

#include <fmt/format.h>

#include <charconv>
#include <optional>

namespace icp::detail {

Error bad_query(std::string_view name, std::string message) {
  return Error{Errc::bad_request,
               fmt::format("query parameter {}: {}", name, message),
               {ErrorDetail{std::string(name), std::move(message)}}};
}

Result<ListOptions> list_options(const boost::urls::params_view& params, std::string& cursor) {
  ListOptions options;
  bool seen_limit = false;
  bool seen_cursor = false;
  bool seen_scope = false;
  for (const auto& param : params) {
    const std::string& key = param.key;
    const std::string& value = param.value;
    auto once = [&](bool& seen) -> std::optional<Error> {
      if (seen) return bad_query(key, "given more than once");
      seen = true;
      return std::nullopt;
    };
    if (key == "limit") {
      if (auto twice = once(seen_limit)) return *twice;
      std::size_t limit = 0;
      const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), limit);
      if (value.empty() || ec != std::errc{} || end != value.data() + value.size() || limit == 0 ||
          limit > kMaxListLimit) {
        return bad_query(key, fmt::format("must be an integer from 1 to {}", kMaxListLimit));
      }
      options.limit = limit;
    } else if (key == "cursor") {
      if (auto twice = once(seen_cursor)) return *twice;
      if (value.empty()) return bad_query(key, "must not be empty");
      cursor = value;
    } else if (key == "scope") {
      if (auto twice = once(seen_scope)) return *twice;
      if (value == "all") {
        options.scope = ListScope::all;
      } else if (value != "mine") {
        return bad_query(key, R"(must be "mine" or "all")");
      }
    } else {
      return bad_query(key, "unknown parameter (known: limit, cursor, scope)");
    }
  }
  options.cursor = cursor;
  return options;
}

}  // namespace icp::detail
