#include "http/routing.hpp"

#include <boost/url/decode_view.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>

#include <algorithm>

namespace icp {

namespace detail {

namespace {

using http::is_valid_base_path;
using http::Route;

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
/// them with Boost.URL twice a request (the host's metrics label, then
/// handle()) was a measurable share of a GET (docs/performance.md,
/// "Measurements behind the code: adapter routing").
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

}  // namespace

BasePath::BasePath(std::string_view path)
    : path_(path),
      segments_(base_segments(path)),
      routes_text_(!segments_.empty() && is_plain_path(path)) {}

std::optional<Target> BasePath::match(std::string_view target) const {
  if (routes_text_ && is_plain_path(target)) {
    return Target{.route = plain_route(target, path_), .path = target};
  }
  const auto url = path_of_target(target);
  if (!url) return std::nullopt;
  return Target{.route = route_of(*url, segments_),
                .path = url->encoded_path(),
                .has_query = url->has_query(),
                .params = url->params()};
}

}  // namespace detail

bool http::is_valid_base_path(std::string_view path) {
  const auto url = boost::urls::parse_origin_form(path);
  if (!url || url->has_query() || url->has_fragment() || url->segments().empty()) return false;
  return std::ranges::none_of(url->encoded_segments(),
                              [](auto segment) { return segment.empty(); });
}

}  // namespace icp
