#include "json/checked_json.hpp"

#include <icp/json.hpp>

#include "json/null_handler.hpp"
#include "json/path.hpp"

#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/value_stack.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <iterator>
#include <vector>

// Boost.JSON 1.81 has no option to refuse duplicate keys. Its parser calls a
// handler we write (basic_parser), and its value_stack builds the value as
// its own parser does, so checking costs one counter per object, not a
// parser of our own: the handler notes how many members each object had in
// the text, and an object that came out smaller lost a duplicate. Only then
// is the text read again to name the key, by a handler that tracks paths.

namespace icp::detail {

namespace json = boost::json;

namespace {

/// Builds the value (Boost.JSON's value_stack, as its own parser does) and
/// notes each object's member count in the text, in the order objects end.
// NOLINTBEGIN(readability-convert-member-functions-to-static): the parser's handler interface
class Builder : public NullHandler {
 public:
  explicit Builder(json::storage_ptr storage) { stack_.reset(std::move(storage)); }

  bool on_object_begin(json::error_code& /*ec*/) { return true; }
  bool on_object_end(std::size_t n, json::error_code& /*ec*/) {
    stack_.push_object(n);
    object_sizes_.push_back(n);
    return true;
  }
  bool on_array_begin(json::error_code& /*ec*/) { return true; }
  bool on_array_end(std::size_t n, json::error_code& /*ec*/) {
    stack_.push_array(n);
    return true;
  }
  bool on_key_part(json::string_view s, std::size_t /*n*/, json::error_code& /*ec*/) {
    note_nul(s);
    stack_.push_chars(s);
    return true;
  }
  bool on_key(json::string_view s, std::size_t /*n*/, json::error_code& /*ec*/) {
    note_nul(s);
    stack_.push_key(s);
    return true;
  }
  bool on_string_part(json::string_view s, std::size_t /*n*/, json::error_code& /*ec*/) {
    note_nul(s);
    stack_.push_chars(s);
    return true;
  }
  bool on_string(json::string_view s, std::size_t /*n*/, json::error_code& /*ec*/) {
    note_nul(s);
    stack_.push_string(s);
    return true;
  }
  bool on_int64(std::int64_t i, json::string_view /*s*/, json::error_code& /*ec*/) {
    stack_.push_int64(i);
    return true;
  }
  bool on_uint64(std::uint64_t u, json::string_view /*s*/, json::error_code& /*ec*/) {
    stack_.push_uint64(u);
    return true;
  }
  bool on_double(double d, json::string_view /*s*/, json::error_code& /*ec*/) {
    non_finite_ = non_finite_ || !std::isfinite(d);
    stack_.push_double(d);
    return true;
  }
  bool on_bool(bool b, json::error_code& /*ec*/) {
    stack_.push_bool(b);
    return true;
  }
  bool on_null(json::error_code& /*ec*/) {
    stack_.push_null();
    return true;
  }

  json::value release() { return stack_.release(); }
  [[nodiscard]] bool saw_non_finite() const noexcept { return non_finite_; }
  [[nodiscard]] bool saw_nul() const noexcept { return nul_; }

  /// Whether every object of `value` (the released result) kept every member
  /// the text gave it. Objects are visited in the order they ended in the
  /// text; with no duplicates each matches its count. A duplicate either
  /// shrinks its object or, when the value it dropped held objects, leaves
  /// counts unvisited: either way this is false.
  [[nodiscard]] bool kept_every_member(const json::value& value) const {
    std::size_t next = 0;
    return kept_every_member(value, next) && next == object_sizes_.size();
  }

 private:
  bool kept_every_member(const json::value& value, std::size_t& next) const {
    if (const auto* array = value.if_array()) {
      for (const auto& element : *array) {
        if (!kept_every_member(element, next)) return false;
      }
      return true;
    }
    if (const auto* object = value.if_object()) {
      for (const auto& member : *object) {
        if (!kept_every_member(member.value(), next)) return false;
      }
      return next < object_sizes_.size() && object->size() == object_sizes_[next++];
    }
    return true;
  }

  void note_nul(json::string_view s) noexcept {
    nul_ = nul_ || s.find('\0') != json::string_view::npos;
  }

  json::value_stack stack_;
  std::vector<std::size_t> object_sizes_;
  bool non_finite_ = false;
  bool nul_ = false;  ///< a string or key held U+0000
};
// NOLINTEND(readability-convert-member-functions-to-static)

/// What the slow pass found, with where.
struct Finding {
  enum class Kind { duplicate_key, number_out_of_range, nul_character } kind;
  std::string path;
};

/// Finds the first duplicate key (or, when asked, out-of-range number or
/// string holding U+0000) in document order, tracking the path to it.
// NOLINTBEGIN(readability-convert-member-functions-to-static): the parser's handler interface
class Locator : public NullHandler {
 public:
  Locator(bool check_numbers, bool check_nul)
      : check_numbers_(check_numbers), check_nul_(check_nul) {}

  bool on_object_begin(json::error_code& /*ec*/) {
    frames_.push_back(Frame{.is_object = true});
    keys_.open_object();
    return true;
  }
  bool on_object_end(std::size_t /*n*/, json::error_code& /*ec*/) {
    keys_.close_object();
    return end_container();
  }
  bool on_array_begin(json::error_code& /*ec*/) {
    frames_.push_back(Frame{.is_object = false});
    return true;
  }
  bool on_array_end(std::size_t /*n*/, json::error_code& /*ec*/) { return end_container(); }
  bool on_key_part(json::string_view s, std::size_t /*n*/, json::error_code& /*ec*/) {
    key_.append(s.data(), s.size());
    return true;
  }
  bool on_key(json::string_view s, std::size_t /*n*/, json::error_code& ec) {
    key_.append(s.data(), s.size());
    if (holds_nul(key_)) {
      frames_.back().key = key_.substr(0, key_.find('\0'));  // the path shows up to it
      return found(Finding::Kind::nul_character, ec);
    }
    frames_.back().key = key_;
    const bool unique = keys_.insert(key_);
    key_.clear();
    if (!unique) return found(Finding::Kind::duplicate_key, ec);
    return true;
  }
  bool on_string_part(json::string_view s, std::size_t /*n*/, json::error_code& ec) {
    if (holds_nul(s)) return found(Finding::Kind::nul_character, ec);
    return true;
  }
  bool on_string(json::string_view s, std::size_t /*n*/, json::error_code& ec) {
    if (holds_nul(s)) return found(Finding::Kind::nul_character, ec);
    return end_value();
  }
  bool on_int64(std::int64_t /*i*/, json::string_view /*s*/, json::error_code& /*ec*/) {
    return end_value();
  }
  bool on_uint64(std::uint64_t /*u*/, json::string_view /*s*/, json::error_code& /*ec*/) {
    return end_value();
  }
  bool on_double(double d, json::string_view /*s*/, json::error_code& ec) {
    if (check_numbers_ && !std::isfinite(d)) return found(Finding::Kind::number_out_of_range, ec);
    return end_value();
  }
  bool on_bool(bool /*b*/, json::error_code& /*ec*/) { return end_value(); }
  bool on_null(json::error_code& /*ec*/) { return end_value(); }

  [[nodiscard]] const std::optional<Finding>& finding() const noexcept { return finding_; }

 private:
  struct Frame {
    bool is_object = false;
    std::size_t index = 0;  // arrays: the element being read
    std::string key;        // objects: the member being read
  };

  [[nodiscard]] bool holds_nul(std::string_view s) const noexcept {
    return check_nul_ && s.find('\0') != std::string_view::npos;
  }
  bool end_container() {
    frames_.pop_back();
    return end_value();
  }
  bool end_value() {
    if (!frames_.empty() && !frames_.back().is_object) ++frames_.back().index;
    return true;
  }
  bool found(Finding::Kind kind, json::error_code& ec) {
    finding_ = Finding{kind, path()};
    ec = json::error::exception;  // stops the parser: the first finding is the one reported
    return false;
  }
  [[nodiscard]] std::string path() const {
    std::string out;
    for (const auto& frame : frames_) {
      if (frame.is_object) {
        append_path_key(out, frame.key);
      } else {
        append_path_index(out, frame.index);
      }
    }
    return out;
  }

  bool check_numbers_;
  bool check_nul_;
  std::vector<Frame> frames_;
  KeySets keys_;
  std::string key_;
  std::optional<Finding> finding_;
};
// NOLINTEND(readability-convert-member-functions-to-static)

std::optional<Finding> locate(std::string_view text, bool check_numbers, bool check_nul) {
  json::basic_parser<Locator> parser(json::parse_options{}, check_numbers, check_nul);
  json::error_code ec;
  parser.write_some(false, text.data(), text.size(), ec);
  return parser.handler().finding();
}

std::string describe_parse_error(std::string_view text, std::size_t offset,
                                 const json::error_code& ec) {
  std::size_t line = 1;
  std::size_t column = 1;
  for (std::size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return fmt::format("malformed JSON at line {}, column {}: {}", line, column, ec.message());
}

}  // namespace

Result<json::value> parse_checked_json(std::string_view text, json::storage_ptr storage,
                                       NulInStrings nul) {
  json::basic_parser<Builder> parser(json::parse_options{}, std::move(storage));
  json::error_code ec;
  const auto consumed = parser.write_some(false, text.data(), text.size(), ec);
  if (!ec && consumed < text.size()) ec = json::error::extra_data;
  if (ec) {
    auto message = describe_parse_error(text, consumed, ec);
    return Error{Errc::bad_request, message, {ErrorDetail{"", message}}};
  }
  auto& builder = parser.handler();
  auto value = builder.release();
  const bool refused_nul = nul == NulInStrings::refuse && builder.saw_nul();
  if (builder.kept_every_member(value) && !builder.saw_non_finite() && !refused_nul) {
    return value;
  }
  const auto finding = locate(text, true, refused_nul);
  if (!finding) return value;  // cannot happen: the checks above found something
  if (finding->kind == Finding::Kind::duplicate_key) {
    return Error{Errc::bad_request,
                 fmt::format("invalid JSON: duplicate key {}", finding->path),
                 {ErrorDetail{finding->path, "duplicate key"}}};
  }
  if (finding->kind == Finding::Kind::nul_character) {
    // PostgreSQL's jsonb cannot hold it, and many clients end strings there:
    // refused alike whatever the store.
    return Error{Errc::bad_request,
                 fmt::format("invalid JSON: a string holds U+0000 at {}", finding->path),
                 {ErrorDetail{finding->path, "must not contain U+0000"}}};
  }
  return Error{Errc::bad_request,
               fmt::format("invalid JSON: number out of range at {}", finding->path),
               {ErrorDetail{finding->path, "number out of range"}}};
}

void KeySets::open_object() { objects_.push_back(Object{.first_key = used_}); }

void KeySets::close_object() {
  used_ = objects_.back().first_key;
  objects_.pop_back();
}

bool KeySets::insert(std::string_view key) {
  // Slots at used_ and beyond belong to no open object: no view points there.
  if (used_ < keys_.size()) {
    keys_[used_].assign(key);
  } else {
    keys_.emplace_back(key);
  }
  if (!objects_.back().keys.insert(keys_[used_])) return false;
  ++used_;
  return true;
}

Result<json::value> parse_json(std::string_view text, json::storage_ptr storage) {
  return parse_checked_json(text, std::move(storage));
}

std::optional<std::string> find_duplicate_key(std::string_view text) {
  const auto finding = locate(text, false, false);
  if (!finding || finding->kind != Finding::Kind::duplicate_key) return std::nullopt;
  return finding->path;
}

}  // namespace icp::detail

namespace icp {

Result<boost::json::value> parse_json(std::string_view text) {
  return detail::parse_checked_json(text, boost::json::storage_ptr{});
}

}  // namespace icp
