#include "outgoing_response.hpp"

#include <boost/beast/http/status.hpp>
#include <boost/url/grammar/ci_string.hpp>

#include <algorithm>
#include <charconv>

namespace icp::server {

namespace {

/// RFC 9110 section 5.6.2: tchar.
bool is_token_char(char c) {
  constexpr std::string_view kSymbols = "!#$%&'*+-.^_`|~";
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         kSymbols.find(c) != std::string_view::npos;
}

void append_number(std::string& out, std::size_t value) {
  std::array<char, 20> digits{};
  auto* const end = std::to_chars(digits.data(), digits.data() + digits.size(), value).ptr;
  out.append(digits.data(), end);
}

}  // namespace

void OutgoingResponse::set(std::string_view name, std::string_view value) {
  if (name.empty() || !std::ranges::all_of(name, is_token_char) ||
      std::ranges::any_of(value, [](char c) { return c == '\r' || c == '\n' || c == '\0'; })) {
    return;
  }
  fields_.append(name).append(": ").append(value).append("\r\n");
}

bool OutgoingResponse::has(std::string_view name) const {
  std::string_view rest = fields_;
  while (!rest.empty()) {
    const auto line_end = rest.find("\r\n");
    const auto line = rest.substr(0, line_end);
    if (boost::urls::grammar::ci_is_equal(line.substr(0, line.find(':')), name)) return true;
    rest.remove_prefix(line_end + 2);
  }
  return false;
}

void OutgoingResponse::finish(unsigned status, std::string body, bool keep_alive, bool omit_body) {
  status_ = status;
  body_ = std::move(body);
  head_.clear();
  head_.append("HTTP/1.1 ");
  append_number(head_, status);
  head_.push_back(' ');
  head_.append(
      boost::beast::http::obsolete_reason(static_cast<boost::beast::http::status>(status)));
  head_.append("\r\n").append(fields_);
  if (status >= 200 && status != 204 && status != 304) {
    head_.append("Content-Length: ");
    append_number(head_, body_.size());
    head_.append("\r\n");
  } else {
    omit_body = true;  // these have none (RFC 9112 section 6.3)
  }
  if (!keep_alive) head_.append("Connection: close\r\n");
  head_.append("\r\n");
  if (omit_body) body_.clear();
}

void OutgoingResponse::clear() {
  fields_.clear();
  head_.clear();
  body_ = {};  // a page may be large: not held by an idle connection
  status_ = 0;
}

}  // namespace icp::server
