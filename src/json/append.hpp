#pragma once

// Appends compact JSON text to a std::string. Hand-written rather than
// boost::json::serialize for two reasons: the ICP is written straight from
// the struct (no intermediate json::value, the hot path of every Get), and
// doubles come out in their shortest round-trip form ("1.5", as JavaScript
// writes them) where Boost.JSON 1.81 writes "1.5E0".

#include <boost/json/value.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace icp::detail {

/// A JSON string literal, quotes included, escaping what RFC 8259 requires.
void append_json_string(std::string& out, std::string_view text);

/// append_json_string for text that may not be UTF-8 (error messages that
/// quote what a client sent): each invalid sequence becomes U+FFFD, so the
/// result is always valid JSON.
void append_json_text(std::string& out, std::string_view text);

void append_json_number(std::string& out, double number);
void append_json_number(std::string& out, std::int64_t number);
void append_json_number(std::string& out, std::uint64_t number);

/// `[a,b,...]`, each element written by `append_one(out, element)`.
template <class Range, class AppendOne>
void append_array(std::string& out, const Range& range, AppendOne append_one) {
  out.push_back('[');
  bool first = true;
  for (const auto& element : range) {
    if (!first) out.push_back(',');
    first = false;
    append_one(out, element);
  }
  out.push_back(']');
}

/// Any JSON value, compact, object keys in their stored order.
void append_json_value(std::string& out, const boost::json::value& value);
void append_json_object(std::string& out, const boost::json::object& object);

}  // namespace icp::detail
