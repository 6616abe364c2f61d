#include <icp/etag.hpp>
#include <icp/http.hpp>
#include <icp/json.hpp>

#include "../json_internal.hpp"

#include <fmt/format.h>

#include <boost/url/decode_view.hpp>
#include <boost/url/encode.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/pct_string_view.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>
#include "cors.hpp"
#include "text.hpp"

#include <algorithm>
#include <charconv>
#include <optional>

namespace icp::http {

namespace {

using icp::detail::equals_ignoring_case;

constexpr std::string_view kJson = "application/json";

Response json_response(int status, std::string body) {
  return Response{status, {{"Content-Type", std::string(kJson)}}, std::move(body)};
}

Response method_not_allowed(std::string_view allow) {
  auto response =
      error_response(405, "METHOD_NOT_ALLOWED", fmt::format("This resource allows only {}", allow));
  response.headers.emplace_back("Allow", std::string(allow));
  return response;
}

Response icp_response(int status, const Icp& icp) {
  auto response = json_response(status, to_json(icp));
  response.headers.emplace_back("ETag", etag_of(icp));
  return response;
}

/// True for `application/json` or, where allowed, `application/merge-patch+json`,
/// with any parameters (`; charset=utf-8`).
bool is_json_media_type(std::string_view content_type, bool merge_patch_allowed) {
  const auto media_type = content_type.substr(0, content_type.find(';'));
  const auto first = media_type.find_first_not_of(" \t");
  const auto last = media_type.find_last_not_of(" \t");
  if (first == std::string_view::npos) return false;
  const auto trimmed = media_type.substr(first, last - first + 1);
  return equals_ignoring_case(trimmed, kJson) ||
         (merge_patch_allowed && equals_ignoring_case(trimmed, "application/merge-patch+json"));
}

/// 415 unless the request carries exactly one JSON Content-Type.
std::optional<Response> check_json_body(const Request& request, bool merge_patch_allowed) {
  const auto types = request.header_values("Content-Type");
  if (types.size() == 1 && is_json_media_type(types.front(), merge_patch_allowed)) {
    return std::nullopt;
  }
  return error_response(415, "UNSUPPORTED_MEDIA_TYPE",
                        merge_patch_allowed
                            ? "Send the body as application/json or application/merge-patch+json"
                            : "Send the body as application/json");
}

/// The request's If-Match precondition; several fields are one list.
std::optional<IfMatch> if_match_of(const Request& request) {
  const auto values = request.header_values("If-Match");
  if (values.empty()) return std::nullopt;
  return parse_if_match(values);
}

Error bad_query(std::string_view name, std::string message) {
  return Error{Errc::bad_request,
               fmt::format("query parameter {}: {}", name, message),
               {ErrorDetail{std::string(name), std::move(message)}}};
}

/// The list options from `?limit=&cursor=&scope=`; other parameters are errors.
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

/// Which route a path names, and the item's id.
struct RouteMatch {
  Route route = Route::none;
  std::string id;  ///< decoded, for items
};

/// Compares segments decoded, in place: routing runs on every request (and
/// again for a host's metrics), so it copies nothing but the id.
RouteMatch route_of(const boost::urls::url_view& url, const std::vector<std::string>& base) {
  if (!url.is_path_absolute() || base.empty()) return {};
  const auto segments = url.encoded_segments();
  auto segment = segments.begin();
  for (const auto& expected : base) {
    if (segment == segments.end() || **segment != expected) return {};
    ++segment;
  }
  // What may follow: nothing, "/" (one trailing slash), "/id" or "/id/".
  if (segment == segments.end()) return {Route::collection, {}};
  const auto id = **segment;
  ++segment;
  const bool trailing_slash = segment != segments.end() && (*segment).empty();
  if (trailing_slash) ++segment;
  if (segment != segments.end()) return {};
  if (id.empty()) return trailing_slash ? RouteMatch{} : RouteMatch{Route::collection, {}};
  return {Route::item, std::string(id.begin(), id.end())};
}

/// A request target matched against the routes.
struct Target {
  RouteMatch route;
  std::string_view path;  ///< still percent-encoded
  bool has_query = false;
  boost::urls::params_view params;  ///< of the query
};

/// Whether `text` is only '/' and unreserved characters (RFC 3986 section
/// 2.3): nothing in it to decode, so its segments are its text between
/// slashes, exactly what Boost.URL would decode them to.
bool is_plain(std::string_view text) {
  return std::ranges::all_of(text, [](char c) {
    return c == '/' || boost::urls::unreserved_chars(static_cast<unsigned char>(c));
  });
}

/// Boost.URL reads a leading "/./" as a prefix, not a segment (so that
/// "/.//x" can stand for "//x"): such paths, rare, are left to it.
bool is_plain_path(std::string_view path) {
  return path.starts_with('/') && !path.starts_with("/.") && is_plain(path);
}

/// route_of for a plain origin-form target under a plain base path, by
/// comparing text: every client of the API sends such targets, and parsing
/// them with Boost.URL, twice a request (the host's metrics label, then
/// handle()), was 3% of a GET's CPU in icp-server.
RouteMatch plain_route(std::string_view target, std::string_view base_path) {
  if (!target.starts_with(base_path)) return {};
  auto rest = target.substr(base_path.size());
  if (rest.empty() || rest == "/") return {Route::collection, {}};
  if (!rest.starts_with('/')) return {};  // "/api/v1/entities/icpsX"
  rest.remove_prefix(1);
  if (rest.ends_with('/')) rest.remove_suffix(1);
  if (rest.empty() || rest.find('/') != std::string_view::npos) return {};
  return {Route::item, std::string(rest)};
}

/// The decoded segments of a valid base path; empty for an invalid one.
std::vector<std::string> base_segments(std::string_view base_path) {
  if (!is_valid_base_path(base_path)) return {};
  std::vector<std::string> segments;
  for (auto segment : boost::urls::parse_origin_form(base_path)->segments()) {
    segments.push_back(segment);
  }
  return segments;
}

/// The path and query of a request target in origin form (`/api/...`) or
/// absolute form (`http://host/api/...`, RFC 9112 section 3.2.2, which a
/// server must accept); nullopt for anything else. An absolute form's empty
/// path is "/" (RFC 9110 4.2.3), which names no resource: its query is dropped.
std::optional<boost::urls::url_view> path_of_target(std::string_view target) {
  if (target.starts_with('/')) {
    auto url = boost::urls::parse_origin_form(target);
    if (!url) return std::nullopt;
    return *url;
  }
  auto absolute = boost::urls::parse_absolute_uri(target);
  if (!absolute || !absolute->has_authority() ||
      (absolute->scheme_id() != boost::urls::scheme::http &&
       absolute->scheme_id() != boost::urls::scheme::https)) {
    return std::nullopt;
  }
  // Only the path and query name the resource; the authority is the Host's.
  const std::string_view rest =
      target.substr(static_cast<std::size_t>(absolute->encoded_path().data() - target.data()));
  auto url = boost::urls::parse_origin_form(rest.starts_with('/') ? rest : std::string_view("/"));
  if (!url) return std::nullopt;
  return *url;
}

/// What `target` names under the base path (whose decoded segments are
/// `base`); nullopt for a target that is neither origin nor absolute form.
/// `text` (a valid, plain base path): plain targets are matched as text.
std::optional<Target> target_of(std::string_view target, std::string_view base_path,
                                const std::vector<std::string>& base, bool text) {
  if (text && is_plain_path(target)) {
    return Target{.route = plain_route(target, base_path), .path = target};
  }
  const auto url = path_of_target(target);
  if (!url) return std::nullopt;
  return Target{.route = route_of(*url, base),
                .path = url->encoded_path(),
                .has_query = url->has_query(),
                .params = url->params()};
}

}  // namespace

bool is_valid_base_path(std::string_view path) {
  const auto url = boost::urls::parse_origin_form(path);
  if (!url || url->has_query() || url->has_fragment() || url->segments().empty()) return false;
  return std::ranges::none_of(url->encoded_segments(),
                              [](auto segment) { return segment.empty(); });
}

Response error_response(int status, std::string_view code, std::string_view message) {
  return json_response(status, detail::error_body(code, message));
}

Response error_response(const Error& error) {
  auto response = json_response(http_status(error.code), error_body(error));
  if (error.code == Errc::unauthorized) response.headers.emplace_back("WWW-Authenticate", "Bearer");
  if (error.code == Errc::unavailable) {
    response.headers.emplace_back("Retry-After", std::to_string(kRetryAfterSeconds));
  }
  return response;
}

Response Adapter::refuse(const Error& error) const {
  if (error.code != Errc::internal && error.code != Errc::unavailable) return error_response(error);
  if (options_.on_server_error) options_.on_server_error(error);
  return error_response(
      error.code == Errc::internal
          ? Error{Errc::internal, "The server failed to answer this request; its log has the cause"}
          : Error{Errc::unavailable,
                  "The service is unavailable for a moment; retry after Retry-After seconds "
                  "(a write may have been applied: read before repeating it)"});
}

Adapter::Adapter(IcpService service, std::shared_ptr<const Authenticator> authenticator,
                 AdapterOptions options)
    : service_(std::move(service)),
      authenticator_(std::move(authenticator)),
      options_(std::move(options)),
      base_segments_(base_segments(options_.base_path)),
      routes_text_(!base_segments_.empty() && is_plain_path(options_.base_path)) {}

Route Adapter::route(std::string_view target) const {
  const auto matched = target_of(target, options_.base_path, base_segments_, routes_text_);
  return matched ? matched->route.route : Route::none;
}

bool Adapter::serves(std::string_view target) const { return route(target) != Route::none; }

std::string Adapter::next_link(const ListOptions& options, std::string_view next_cursor) const {
  const auto cursor = boost::urls::encode(next_cursor, boost::urls::unreserved_chars);
  return fmt::format("<{}?limit={}&cursor={}{}>; rel=\"next\"", options_.base_path, options.limit,
                     cursor, options.scope == ListScope::all ? "&scope=all" : "");
}

std::optional<Response> Adapter::preflight(const Request& request) const {
  if (!detail::is_preflight(request)) return std::nullopt;
  const auto origin = detail::allowed_origin(request, options_.cors_origins);
  if (!origin) return std::nullopt;  // answered as any OPTIONS: 405
  const auto route = this->route(request.target);
  if (route == Route::none) return std::nullopt;
  return detail::preflight_response(
      *origin, route == Route::collection ? "GET, HEAD, POST" : "GET, HEAD, PATCH, DELETE");
}

void Adapter::share(const Request& request, Response& response) const {
  if (options_.cors_origins.empty()) return;
  // What a response carries depends on the Origin: caches must know.
  response.headers.emplace_back("Vary", "Origin");
  if (const auto origin = detail::allowed_origin(request, options_.cors_origins)) {
    detail::share_with(response, *origin);
  }
}

Response Adapter::handle(const Request& request) const try {
  if (auto preflighted = preflight(request)) return *std::move(preflighted);
  auto response = answer(request);
  share(request, response);
  return response;
} catch (const std::exception&) {
  return error_response({Errc::internal, "The server failed to answer this request"});
}

std::optional<Response> Adapter::precheck(const Request& head) const try {
  if (auto preflighted = preflight(head)) return preflighted;
  auto response = answer_early(head);
  if (response) share(head, *response);
  return response;
} catch (const std::exception&) {
  return error_response({Errc::internal, "The server failed to answer this request"});
}

std::variant<Response, Adapter::Admitted> Adapter::admit(const Request& request) const {
  auto target = target_of(request.target, options_.base_path, base_segments_, routes_text_);
  if (!target) return error_response({Errc::bad_request, "The request target is not a valid path"});
  RouteMatch& route = target->route;
  if (route.route == Route::none) {
    const auto path = boost::urls::make_pct_string_view(target->path);
    return error_response(
        {Errc::not_found, fmt::format("No such resource: {}", path ? path->decode() : "/")});
  }
  const auto& method = request.method;
  const bool collection = route.route == Route::collection;
  // HEAD is GET without the body, which every server must support (RFC 9110 9.1).
  const bool reads = method == "GET" || method == "HEAD";
  const bool known_method =
      reads || (collection ? method == "POST" : (method == "PATCH" || method == "DELETE"));
  if (!known_method) {
    return method_not_allowed(collection ? "GET, HEAD, POST" : "GET, HEAD, PATCH, DELETE");
  }
  if (request.body.size() > options_.max_body_bytes) {
    return error_response(413, "PAYLOAD_TOO_LARGE",
                          fmt::format("The body is larger than {} bytes", options_.max_body_bytes));
  }
  if (!collection && target->has_query) {
    return error_response(bad_query((*target->params.begin()).key, "this resource takes no query"));
  }
  if (collection && method == "POST" && target->has_query) {
    return error_response(bad_query((*target->params.begin()).key, "create takes no query"));
  }
  auto caller = authenticator_->authenticate(request);
  if (!caller) return refuse(caller.error());
  return Admitted{.params = target->params,
                  .collection = collection,
                  .id = std::move(route.id),
                  .caller = std::move(*caller)};
}

std::optional<Response> Adapter::answer_early(const Request& head) const try {
  auto admitted = admit(head);
  if (auto* refused = std::get_if<Response>(&admitted)) return std::move(*refused);
  const auto& [params, collection, id, caller] = std::get<Admitted>(admitted);
  if (collection && head.method == "POST") return check_json_body(head, false);
  if (head.method == "PATCH") {
    // As handle() does: access and If-Match first, then the content type.
    const auto allowed = service_.check_update(id, caller, if_match_of(head));
    if (!allowed) return refuse(allowed.error());
    return check_json_body(head, true);
  }
  return std::nullopt;
} catch (const std::exception&) {
  return error_response({Errc::internal, "The server failed to answer this request"});
}

Response Adapter::answer(const Request& request) const try {
  auto admitted = admit(request);
  if (auto* refused = std::get_if<Response>(&admitted)) return std::move(*refused);
  const auto& [params, collection, id, caller] = std::get<Admitted>(admitted);
  const auto& method = request.method;

  const bool reads = method == "GET" || method == "HEAD";
  if (collection && reads) {
    std::string cursor;
    auto options = list_options(params, cursor);
    if (!options) return refuse(options.error());
    // The store reads no more than about a page's bytes (listed_bytes only
    // estimates; the exact cut is list_response's).
    options->max_bytes = options_.max_page_bytes;
    const auto page = service_.list(caller, *options);
    if (!page) return refuse(page.error());
    return list_response(*page, *options);
  }
  if (collection) {  // POST
    if (auto unsupported = check_json_body(request, false)) return *unsupported;
    const auto created = service_.create(request.body, caller);
    if (!created) return refuse(created.error());
    auto response = icp_response(201, *created);
    response.headers.emplace_back("Location",
                                  fmt::format("{}/{}", options_.base_path, created->id));
    return response;
  }
  if (reads) {
    const auto icp = service_.get(id, caller);
    return icp ? icp_response(200, *icp) : refuse(icp.error());
  }
  if (method == "PATCH") {
    // 401/404/403/412 come before the body's problems, 415 included.
    if (auto unsupported = check_json_body(request, true)) {
      const auto allowed = service_.check_update(id, caller, if_match_of(request));
      return allowed ? *unsupported : refuse(allowed.error());
    }
    const auto updated = service_.update(id, request.body, caller, if_match_of(request));
    return updated ? icp_response(200, *updated) : refuse(updated.error());
  }
  const auto removed = service_.remove(id, caller, if_match_of(request));  // DELETE
  if (!removed) return refuse(removed.error());
  return Response{204, {}, {}};
} catch (const std::exception&) {
  // Only allocation can throw here; answer rather than take the host down.
  return error_response({Errc::internal, "The server failed to answer this request"});
}

Response Adapter::list_response(const IcpPage& page, const ListOptions& options) const {
  // A page stops short of max_page_bytes (but holds at least one ICP), and
  // its Link continues after the last ICP it holds: what one response holds
  // is bounded by bytes as well as by count.
  std::string body = "[";
  std::size_t shown = 0;
  for (const auto& icp : page.icps) {
    const auto before = body.size();
    if (shown > 0) body.push_back(',');
    append_json(body, icp);
    if (shown > 0 && body.size() + 1 > options_.max_page_bytes) {
      body.resize(before);
      break;
    }
    ++shown;
  }
  body.push_back(']');
  auto response = json_response(200, std::move(body));
  const auto next_cursor =
      shown < page.icps.size() ? list_cursor_after(page.icps[shown - 1]) : page.next_cursor;
  if (next_cursor) response.headers.emplace_back("Link", next_link(options, *next_cursor));
  return response;
}

}  // namespace icp::http
