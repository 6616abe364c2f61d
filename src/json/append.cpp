#include "json/append.hpp"

#include "util/utf8.hpp"

#include <array>
#include <charconv>
#include <cmath>

namespace icp::detail {

namespace {

template <class Number>
void append_chars(std::string& out, Number number) {
  std::array<char, 32> buffer{};
  const auto result = std::to_chars(buffer.data(), buffer.data() + buffer.size(), number);
  out.append(buffer.data(), result.ptr);
}

}  // namespace

void append_json_string(std::string& out, std::string_view text) {
  static constexpr std::string_view kHex = "0123456789abcdef";
  out.push_back('"');
  std::size_t clean_from = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(text.substr(clean_from, i - clean_from));
    clean_from = i + 1;
    switch (c) {
      case '"': out.append("\\\""); break;
      case '\\': out.append("\\\\"); break;
      case '\n': out.append("\\n"); break;
      case '\r': out.append("\\r"); break;
      case '\t': out.append("\\t"); break;
      case '\b': out.append("\\b"); break;
      case '\f': out.append("\\f"); break;
      default:
        out.append("\\u00");
        out.push_back(kHex[c >> 4U]);
        out.push_back(kHex[c & 0xFU]);
    }
  }
  out.append(text.substr(clean_from));
  out.push_back('"');
}

void append_json_text(std::string& out, std::string_view text) {
  std::string valid;
  std::size_t clean_from = 0;
  for (std::size_t i = 0; i < text.size();) {
    const auto length = utf8_sequence_length(text.substr(i));
    if (length > 0) {
      i += length;
      continue;
    }
    valid.append(text.substr(clean_from, i - clean_from));
    valid.append("\xEF\xBF\xBD");  // U+FFFD REPLACEMENT CHARACTER
    clean_from = ++i;
  }
  if (clean_from == 0) {
    append_json_string(out, text);
    return;
  }
  valid.append(text.substr(clean_from));
  append_json_string(out, valid);
}

void append_json_number(std::string& out, double number) {
  // JSON has no NaN or infinity; JavaScript writes them as null too.
  if (!std::isfinite(number)) {
    out.append("null");
    return;
  }
  append_chars(out, number);
}

void append_json_number(std::string& out, std::int64_t number) { append_chars(out, number); }

void append_json_number(std::string& out, std::uint64_t number) { append_chars(out, number); }

void append_json_value(std::string& out, const boost::json::value& value) {
  switch (value.kind()) {
    case boost::json::kind::null: out.append("null"); break;
    case boost::json::kind::bool_: out.append(value.get_bool() ? "true" : "false"); break;
    case boost::json::kind::int64: append_json_number(out, value.get_int64()); break;
    case boost::json::kind::uint64: append_json_number(out, value.get_uint64()); break;
    case boost::json::kind::double_: append_json_number(out, value.get_double()); break;
    case boost::json::kind::string: append_json_string(out, value.get_string()); break;
    case boost::json::kind::array: {
      out.push_back('[');
      bool first = true;
      for (const auto& element : value.get_array()) {
        if (!first) out.push_back(',');
        first = false;
        append_json_value(out, element);
      }
      out.push_back(']');
      break;
    }
    case boost::json::kind::object: append_json_object(out, value.get_object()); break;
  }
}

void append_json_object(std::string& out, const boost::json::object& object) {
  out.push_back('{');
  bool first = true;
  for (const auto& member : object) {
    if (!first) out.push_back(',');
    first = false;
    append_json_string(out, member.key());
    out.push_back(':');
    append_json_value(out, member.value());
  }
  out.push_back('}');
}

}  // namespace icp::detail
