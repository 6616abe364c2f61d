// The Adapter: a request admitted (route, method, size, query, caller),
// then handed to the service, and the service's answer as HTTP.
#include <icp/etag.hpp>
#include <icp/http/adapter.hpp>
#include <icp/json.hpp>

#include "http/cors.hpp"
#include "http/json_response.hpp"
#include "http/list_query.hpp"
#include "http/routing.hpp"
#include "util/ascii.hpp"

#include <boost/url/encode.hpp>
#include <boost/url/pct_string_view.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>
#include <fmt/format.h>

#include <optional>
#include <variant>

namespace icp {

/// What an Adapter serves with, shared by its copies.
struct detail::AdapterState {
  IcpService service;
  std::shared_ptr<const http::Authenticator> authenticator;
  http::AdapterOptions options;
  BasePath base;
};

namespace http {

namespace {

using icp::detail::AdapterState;
using icp::detail::equals_ignoring_case;
using icp::detail::json_response;

constexpr std::string_view kJson = "application/json";

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

/// The answer for an error of the service; 500 and 503 with a generic
/// message, the Error handed to on_server_error.
Response refuse(const AdapterState& state, const Error& error) {
  if (error.code != Errc::internal && error.code != Errc::unavailable) return error_response(error);
  if (state.options.on_server_error) state.options.on_server_error(error);
  return error_response(
      error.code == Errc::internal
          ? Error{Errc::internal, "The server failed to answer this request; its log has the cause"}
          : Error{Errc::unavailable,
                  "The service is unavailable for a moment; retry after Retry-After seconds "
                  "(a write may have been applied: read before repeating it)"});
}

/// Runs `answer`; anything it throws (only allocation can) is a 500 rather
/// than an exception in the host.
template <class Answer>
auto answering(Answer answer) -> decltype(answer()) {
  try {
    return answer();
  } catch (const std::exception&) {
    return error_response({Errc::internal, "The server failed to answer this request"});
  }
}

/// The CORS answer to a preflight; nullopt for any other request.
std::optional<Response> preflight(const AdapterState& state, const Request& request) {
  if (!detail::is_preflight(request)) return std::nullopt;
  const auto origin = detail::allowed_origin(request, state.options.cors_origins);
  if (!origin) return std::nullopt;  // answered as any OPTIONS: 405
  const auto target = state.base.match(request.target);
  const auto route = target ? target->route.route : Route::none;
  if (route == Route::none) return std::nullopt;
  return detail::preflight_response(
      *origin, route == Route::collection ? "GET, HEAD, POST" : "GET, HEAD, PATCH, DELETE");
}

/// Adds the CORS headers of an answer.
void share(const AdapterState& state, const Request& request, Response& response) {
  if (state.options.cors_origins.empty()) return;
  // What a response carries depends on the Origin: caches must know.
  response.headers.emplace_back("Vary", "Origin");
  if (const auto origin = detail::allowed_origin(request, state.options.cors_origins)) {
    detail::share_with(response, *origin);
  }
}

/// A request past routing, method, size, query and authentication.
struct Admitted {
  boost::urls::params_view params;  ///< of the query; empty without one
  bool collection = false;
  std::string id;  ///< decoded, for items
  AuthContext caller;
};

/// The checks every request passes, in the order their answers take
/// precedence; the refusal, or what the request may go on with.
std::variant<Response, Admitted> admit(const AdapterState& state, const Request& request) {
  auto target = state.base.match(request.target);
  if (!target) return error_response({Errc::bad_request, "The request target is not a valid path"});
  auto& route = target->route;
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
  const auto max_body_bytes = state.options.max_body_bytes;
  if (request.body.size() > max_body_bytes) {
    return error_response(413, "PAYLOAD_TOO_LARGE",
                          fmt::format("The body is larger than {} bytes", max_body_bytes));
  }
  if (target->has_query && (!collection || method == "POST")) {
    return error_response(
        detail::bad_query((*target->params.begin()).key,
                          collection ? "create takes no query" : "this resource takes no query"));
  }
  auto caller = state.authenticator->authenticate(request);
  if (!caller) return refuse(state, caller.error());
  return Admitted{.params = target->params,
                  .collection = collection,
                  .id = std::move(route.id),
                  .caller = std::move(*caller)};
}

/// The `Link` of a list page that more follow.
std::string next_link(const AdapterState& state, const ListOptions& options,
                      std::string_view next_cursor) {
  const auto cursor = boost::urls::encode(next_cursor, boost::urls::unreserved_chars);
  return fmt::format("<{}?limit={}&cursor={}{}>; rel=\"next\"", state.options.base_path,
                     options.limit, cursor, options.scope == ListScope::all ? "&scope=all" : "");
}

Response list_response(const AdapterState& state, const IcpPage& page, const ListOptions& options) {
  // A page stops short of max_page_bytes (but holds at least one ICP), and
  // its Link continues after the last ICP it holds: what one response holds
  // is bounded by bytes as well as by count.
  const auto max_page_bytes = state.options.max_page_bytes;
  std::string body = "[";
  std::size_t shown = 0;
  for (const auto& icp : page.icps) {
    const auto before = body.size();
    if (shown > 0) body.push_back(',');
    append_json(body, icp);
    if (shown > 0 && body.size() + 1 > max_page_bytes) {
      body.resize(before);
      break;
    }
    ++shown;
  }
  body.push_back(']');
  auto response = json_response(200, std::move(body));
  const auto next_cursor =
      shown < page.icps.size() ? list_cursor_after(page.icps[shown - 1]) : page.next_cursor;
  if (next_cursor) response.headers.emplace_back("Link", next_link(state, options, *next_cursor));
  return response;
}

Response answer(const AdapterState& state, const Request& request);

/// What precheck() answers before the body is read.
std::optional<Response> answer_early(const AdapterState& state, const Request& head) {
  auto admitted = admit(state, head);
  if (auto* refused = std::get_if<Response>(&admitted)) return std::move(*refused);
  const auto& [params, collection, id, caller] = std::get<Admitted>(admitted);
  if (collection && head.method == "POST") return check_json_body(head, false);
  if (head.method == "PATCH") {
    // As answer() does: access and If-Match first, then the content type.
    const auto allowed = state.service.check_update(id, caller, if_match_of(head));
    if (!allowed) return refuse(state, allowed.error());
    return check_json_body(head, true);
  }
  // GET, HEAD and DELETE read no body: their whole answer is known now, and
  // one carried (RFC 9110 gives it no meaning) is never read.
  return answer(state, head);
}

Response answer(const AdapterState& state, const Request& request) {
  auto admitted = admit(state, request);
  if (auto* refused = std::get_if<Response>(&admitted)) return std::move(*refused);
  const auto& [params, collection, id, caller] = std::get<Admitted>(admitted);
  const auto& method = request.method;
  const auto& service = state.service;

  const bool reads = method == "GET" || method == "HEAD";
  if (collection && reads) {
    std::string cursor;
    auto options = detail::list_options(params, cursor);
    if (!options) return refuse(state, options.error());
    // The store reads no more than about a page's bytes (listed_bytes only
    // estimates; the exact cut is list_response's).
    options->max_bytes = state.options.max_page_bytes;
    const auto page = service.list(caller, *options);
    if (!page) return refuse(state, page.error());
    return list_response(state, *page, *options);
  }
  if (collection) {  // POST
    if (auto unsupported = check_json_body(request, false)) return *unsupported;
    const auto created = service.create(request.body, caller);
    if (!created) return refuse(state, created.error());
    auto response = icp_response(201, *created);
    response.headers.emplace_back("Location",
                                  fmt::format("{}/{}", state.options.base_path, created->id));
    return response;
  }
  if (reads) {
    const auto icp = service.get(id, caller);
    return icp ? icp_response(200, *icp) : refuse(state, icp.error());
  }
  if (method == "PATCH") {
    // 401/404/403/412 come before the body's problems, 415 included.
    if (auto unsupported = check_json_body(request, true)) {
      const auto allowed = service.check_update(id, caller, if_match_of(request));
      return allowed ? *unsupported : refuse(state, allowed.error());
    }
    const auto updated = service.update(id, request.body, caller, if_match_of(request));
    return updated ? icp_response(200, *updated) : refuse(state, updated.error());
  }
  const auto removed = service.remove(id, caller, if_match_of(request));  // DELETE
  if (!removed) return refuse(state, removed.error());
  return Response{204, {}, {}};
}

}  // namespace

namespace {

std::shared_ptr<const AdapterState> make_state(IcpService service,
                                               std::shared_ptr<const Authenticator> authenticator,
                                               AdapterOptions options) {
  auto base = detail::BasePath(options.base_path);
  return std::make_shared<const AdapterState>(
      AdapterState{.service = std::move(service),
                   .authenticator = std::move(authenticator),
                   .options = std::move(options),
                   .base = std::move(base)});
}

}  // namespace

Adapter::Adapter(IcpService service, std::shared_ptr<const Authenticator> authenticator,
                 AdapterOptions options)
    : state_(make_state(std::move(service), std::move(authenticator), std::move(options))) {}

Route Adapter::route(std::string_view target) const {
  const auto matched = state_->base.match(target);
  return matched ? matched->route.route : Route::none;
}

bool Adapter::serves(std::string_view target) const { return route(target) != Route::none; }

// The inner answering(): a 500 from a throwing authenticator still carries
// the CORS headers, so that a browser can read it.
Response Adapter::handle(const Request& request) const {
  return answering([&] {
    if (auto preflighted = preflight(*state_, request)) return *std::move(preflighted);
    auto response = answering([&] { return answer(*state_, request); });
    share(*state_, request, response);
    return response;
  });
}

std::optional<Response> Adapter::precheck(const Request& head) const {
  return answering([&] {
    if (auto preflighted = preflight(*state_, head)) return preflighted;
    auto response = answering([&] { return answer_early(*state_, head); });
    if (response) share(*state_, head, *response);
    return response;
  });
}

}  // namespace http

}  // namespace icp
