#include "json_duplicates.hpp"

#include <fmt/format.h>
#include <boost/json/parse.hpp>

#include <algorithm>
#include <deque>
#include <vector>

// A scan by hand: Boost.JSON 1.81 has no option to reject duplicate keys, and
// its SAX interface would mean re-implementing value building. Valid input
// makes the scan simple: only strings, nesting and separators matter.

namespace icp::detail {

namespace {

struct Frame {
  bool is_object = false;
  std::size_t index = 0;               // arrays: the element being read
  std::string_view key;                // objects: the member being read (decoded)
  std::vector<std::string_view> keys;  // objects: the keys seen so far
};

/// The decoded text of a string literal starting at `text[begin]` (a quote);
/// sets `end` past the closing quote. A view into `text` unless the literal
/// has escapes, whose decoded text is kept in `decoded`.
std::string_view read_string(std::string_view text, std::size_t begin, std::size_t& end,
                             std::deque<std::string>& decoded) {
  std::size_t i = begin + 1;
  bool escaped = false;
  for (; i < text.size(); ++i) {
    if (text[i] == '\\') {
      escaped = true;
      ++i;
    } else if (text[i] == '"') {
      break;
    }
  }
  end = i + 1;
  const auto literal = text.substr(begin, end - begin);
  if (!escaped) return literal.substr(1, literal.size() - 2);
  // Escapes (\u0061 is "a") are rare in keys: let the real parser decode them.
  return decoded.emplace_back(boost::json::parse(literal).as_string());
}

std::string path_of(const std::vector<Frame>& stack) {
  std::string path;
  for (const auto& frame : stack) {
    if (!frame.is_object) {
      fmt::format_to(std::back_inserter(path), "[{}]", frame.index);
    } else {
      if (!path.empty()) path.push_back('.');
      path.append(frame.key);
    }
  }
  return path;
}

}  // namespace

std::optional<std::string> find_duplicate_key(std::string_view json) {
  std::vector<Frame> stack;
  std::deque<std::string> decoded;
  bool expecting_key = false;
  for (std::size_t i = 0; i < json.size();) {
    const char c = json[i];
    switch (c) {
      case '{':
        stack.push_back(Frame{.is_object = true});
        expecting_key = true;
        ++i;
        break;
      case '[':
        stack.push_back(Frame{.is_object = false});
        expecting_key = false;
        ++i;
        break;
      case '}':
      case ']':
        stack.pop_back();
        expecting_key = false;
        ++i;
        break;
      case ',':
        if (!stack.empty()) {
          if (stack.back().is_object) {
            expecting_key = true;
          } else {
            ++stack.back().index;
          }
        }
        ++i;
        break;
      case '"': {
        std::size_t end = i;
        const auto text = read_string(json, i, end, decoded);
        if (expecting_key) {
          auto& frame = stack.back();
          frame.key = text;
          if (std::ranges::find(frame.keys, text) != frame.keys.end()) return path_of(stack);
          frame.keys.push_back(text);
          expecting_key = false;
        }
        i = end;
        break;
      }
      default: ++i;
    }
  }
  return std::nullopt;
}

}  // namespace icp::detail
