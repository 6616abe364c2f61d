// The API's error body, {"error":{"code":...,"message":...,"details":[...]}}.
#include "json/error_body.hpp"

#include "json/append.hpp"

namespace icp {

std::string detail::error_body(std::string_view code, std::string_view message,
                               const std::vector<ErrorDetail>& details) {
  std::string out;
  out.reserve(96 + message.size());
  out.append(R"({"error":{"code":)");
  detail::append_json_text(out, code);
  // Messages may quote what a client sent (a path, a parameter's name): not
  // necessarily UTF-8.
  out.append(R"(,"message":)");
  detail::append_json_text(out, message);
  if (!details.empty()) {
    out.append(R"(,"details":)");
    detail::append_array(out, details, [](std::string& o, const ErrorDetail& detail) {
      o.append(R"({"path":)");
      detail::append_json_text(o, detail.path);
      o.append(R"(,"message":)");
      detail::append_json_text(o, detail.message);
      o.push_back('}');
    });
  }
  out.append("}}");
  return out;
}

}  // namespace icp
