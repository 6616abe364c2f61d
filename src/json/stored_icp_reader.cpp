// The fast path for documents the stores wrote (see read_stored_icp).
//
// Written by hand beside Boost.JSON, which still checks every part that is
// not plain: a list page decodes many documents, and building a Boost.JSON
// tree of each and copying it into an Icp was most of a PostgreSQL list's
// client time (docs/performance.md, "PostgreSQL"). The stores' documents
// have one layout (icp_layout.hpp), so this reads that layout directly,
// keeps the opaque parts as text (checked here, parsed only when someone
// looks at them), and gives up on anything else, which the general reader
// then reads or refuses with its usual message.

#include "json/stored_icp_reader.hpp"

#include <icp/id.hpp>

#include "json/checked_json.hpp"
#include "json/icp_layout.hpp"
#include "json/icp_reader.hpp"
#include "json/icp_rules.hpp"
#include "json/null_handler.hpp"
#include "model/opaque_json.hpp"
#include "util/unique_strings.hpp"

#include <boost/json/basic_parser_impl.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>

namespace icp::detail {

namespace {

namespace json = boost::json;

/// Keeps the characters of the one string the text holds, escapes decoded.
struct StringDecoder : NullHandler {
  std::string* out = nullptr;

  bool on_string_part(json::string_view s, std::size_t /*n*/, json::error_code& /*ec*/) const {
    out->append(s.data(), s.size());
    return true;
  }
  bool on_string(json::string_view s, std::size_t /*n*/, json::error_code& /*ec*/) const {
    out->append(s.data(), s.size());
    return true;
  }
};

/// Checks an opaque part as the general reader does (checked_json.hpp): no
/// key twice in one object, no number beyond a double. Keeps nothing else.
/// Its key sets are the thread's own, reused from part to part: a set of its
/// own per part is measurably slower (docs/performance.md, "Measurements
/// behind the code: stored-icp reader").
// NOLINTBEGIN(readability-convert-member-functions-to-static): the parser's handler interface
class OpaqueChecker : public NullHandler {
 public:
  OpaqueChecker() {
    // A part that failed half-way left its state behind.
    scratch().keys.clear();
    scratch().key.clear();
  }

  bool on_object_begin(json::error_code& /*ec*/) {
    scratch().keys.open_object();
    return true;
  }
  bool on_object_end(std::size_t /*n*/, json::error_code& /*ec*/) {
    scratch().keys.close_object();
    return true;
  }
  bool on_key_part(json::string_view s, std::size_t /*n*/, json::error_code& /*ec*/) {
    scratch().key.append(s.data(), s.size());
    return true;
  }
  bool on_key(json::string_view s, std::size_t /*n*/, json::error_code& ec) {
    auto& [keys, key] = scratch();
    key.append(s.data(), s.size());
    const bool unique = keys.insert(key);
    key.clear();
    if (!unique) ec = json::error::exception;
    return unique;
  }
  bool on_double(double d, json::string_view /*s*/, json::error_code& ec) {
    if (std::isfinite(d)) return true;
    ec = json::error::exception;
    return false;
  }

 private:
  struct Scratch {
    KeySets keys;
    std::string key;
  };
  static Scratch& scratch() {
    thread_local Scratch state;
    return state;
  }
};
// NOLINTEND(readability-convert-member-functions-to-static)

/// Whether `text` is exactly one JSON value, as Boost.JSON's default options
/// accept it, with at most `max_depth` levels of nesting.
template <class Handler>
bool parses_whole(std::string_view text, std::size_t max_depth, Handler handler) {
  json::parse_options options;
  options.max_depth = max_depth;
  json::basic_parser<Handler> parser(options, std::move(handler));
  json::error_code ec;
  const auto consumed = parser.write_some(false, text.data(), text.size(), ec);
  return !ec && parser.done() && consumed == text.size();
}

/// The general reader parses the whole document with Boost.JSON's default
/// depth limit; an opaque part at level `level` (the document is level 1)
/// has that limit less the levels around it.
std::size_t depth_left_at(std::size_t level) {
  return json::parse_options{}.max_depth - (level - 1);
}

/// Reads to_json's layout from the front of a text; every read either
/// consumes what it names or fails, leaving the reader where it was.
class Reader {
 public:
  explicit Reader(std::string_view text) : text_(text) {}

  [[nodiscard]] bool at_end() const noexcept { return pos_ == text_.size(); }

  bool literal(std::string_view expected) noexcept {
    if (!text_.substr(pos_).starts_with(expected)) return false;
    pos_ += expected.size();
    return true;
  }

  /// A string's characters: plain ASCII is viewed in place; escapes and
  /// other bytes are decoded and checked by Boost.JSON into `scratch`.
  std::optional<std::string_view> string(std::string& scratch) {
    if (pos_ >= text_.size() || text_[pos_] != '"') return std::nullopt;
    bool plain = true;
    const std::size_t end = string_end(pos_, plain);
    if (end == std::string_view::npos) return std::nullopt;
    const auto quoted = text_.substr(pos_, end + 1 - pos_);
    const auto body = quoted.substr(1, quoted.size() - 2);
    if (!plain) {
      scratch.clear();
      if (!parses_whole(quoted, 1, StringDecoder{{}, &scratch})) return std::nullopt;
    }
    pos_ = end + 1;
    return plain ? body : std::string_view(scratch);
  }

  /// A number token by RFC 8259's grammar: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
  std::optional<std::string_view> number() noexcept {
    const std::size_t start = pos_;
    (void)literal("-");
    if (!literal("0") && !digits()) return fail_at(start);
    if (literal(".") && !digits()) return fail_at(start);
    if (literal("e") || literal("E")) {
      if (!literal("+")) (void)literal("-");
      if (!digits()) return fail_at(start);
    }
    return text_.substr(start, pos_ - start);
  }

  /// A whole JSON object, checked by Boost.JSON, as text; `level` is how deep
  /// it sits in the document (the document itself is level 1).
  std::optional<std::string_view> object(std::size_t level) {
    const std::size_t start = pos_;
    if (pos_ >= text_.size() || text_[pos_] != '{') return std::nullopt;
    // Finds where it ends (brackets outside strings), then lets the parser
    // decide whether that is one valid value.
    std::size_t depth = 0;
    std::size_t at = pos_;
    for (; at < text_.size(); ++at) {
      const char c = text_[at];
      if (c == '"') {
        bool plain = true;  // unused: the parser checks the whole object
        at = string_end(at, plain);
        if (at == std::string_view::npos) return std::nullopt;
      } else if (c == '{' || c == '[') {
        ++depth;
      } else if ((c == '}' || c == ']') && --depth == 0) {
        break;
      }
    }
    if (at >= text_.size()) return std::nullopt;
    const auto value = text_.substr(start, at + 1 - start);
    if (!parses_whole(value, depth_left_at(level), OpaqueChecker{})) return std::nullopt;
    pos_ = at + 1;
    return value;
  }

 private:
  bool digits() noexcept {
    const std::size_t start = pos_;
    while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') ++pos_;
    return pos_ > start;
  }

  /// Where the string whose opening quote is at `quote` ends (its closing
  /// quote), npos when the text ends first. `plain` becomes false when its
  /// body holds an escape, a control character or a non-ASCII byte.
  [[nodiscard]] std::size_t string_end(std::size_t quote, bool& plain) const noexcept {
    for (std::size_t at = quote + 1; at < text_.size(); ++at) {
      const auto c = static_cast<unsigned char>(text_[at]);
      if (c == '"') return at;
      if (c == '\\') {
        plain = false;
        ++at;  // the escaped character cannot end the string
      } else if (c < 0x20 || c >= 0x80) {
        plain = false;
      }
    }
    return std::string_view::npos;
  }

  std::nullopt_t fail_at(std::size_t start) noexcept {
    pos_ = start;
    return std::nullopt;
  }

  std::string_view text_;
  std::size_t pos_ = 0;
};

/// Calls `read_one` for each element of an array whose `[` is next, until
/// `]`; false when an element or the layout is not as expected.
template <class ReadOne>
bool read_elements(Reader& in, ReadOne read_one) {
  if (!in.literal("[")) return false;
  if (in.literal("]")) return true;
  do {
    if (!read_one()) return false;
  } while (in.literal(","));
  return in.literal("]");
}

std::optional<Timestamp> read_timestamp(Reader& in, std::string& scratch) {
  const auto text = in.string(scratch);
  if (!text) return std::nullopt;
  auto parsed = parse_timestamp(*text);
  if (!parsed) return std::nullopt;
  return *parsed;
}

bool read_user_ids(Reader& in, std::string& scratch, std::vector<std::string>& user_ids) {
  return read_elements(in,
                       [&] {
                         const auto user_id = in.string(scratch);
                         if (!user_id || user_id->empty()) return false;
                         user_ids.emplace_back(*user_id);
                         return true;
                       }) &&
         !has_duplicates(user_ids);
}

bool read_leads_per_list(Reader& in, std::int32_t& leads_per_list) {
  const auto token = in.number();
  if (!token) return false;
  std::int64_t count = 0;
  const auto [end, ec] = std::from_chars(token->data(), token->data() + token->size(), count);
  if (ec != std::errc{} || end != token->data() + token->size() || count < kMinLeadsPerList ||
      count > kMaxLeadsPerList) {
    return false;  // including 25.0, which the general reader takes
  }
  leads_per_list = static_cast<std::int32_t>(count);
  return true;
}

/// `{"provider":..,"type":..,"filters":{..}}`, inside the criteria array.
bool read_lead_provider_criterion(Reader& in, std::string& scratch,
                                  std::vector<LeadProviderCriterion>& criteria) {
  LeadProviderCriterion criterion;
  if (!in.literal(layout::kProvider)) return false;
  const auto provider = in.string(scratch);
  if (!provider || provider->empty()) return false;
  criterion.provider = *provider;
  if (!in.literal(layout::kProviderType)) return false;
  const auto type = in.string(scratch);
  if (!type || !is_criterion_type(*type)) return false;
  criterion.type = *type;
  if (!in.literal(layout::kFilters)) return false;
  const auto filters = in.object(layout::kFiltersLevel);
  if (!filters) return false;
  criterion.filters = OpaqueJsonAccess::from_valid_text(*filters);
  if (!in.literal(layout::kEnd)) return false;
  criteria.push_back(std::move(criterion));
  return true;
}

/// The general reader's range rule for custom filter values, on a number
/// token read as `value`: inside +-2^53 a value is exact whatever the token;
/// at the edge an integer token is checked as written (2^53 + 1 reads as the
/// double 2^53), any other refused.
bool is_exact_filter_token(std::string_view token, double value) {
  if (is_exact_filter_value(value)) return true;
  if (token.find_first_of(".eE") != std::string_view::npos) return false;
  std::int64_t integer = 0;
  const auto [end, ec] = std::from_chars(token.data(), token.data() + token.size(), integer);
  return ec == std::errc{} && end == token.data() + token.size() && is_exact_filter_value(integer);
}

/// `{"type":..,"value":n}`, inside the custom criteria array.
bool read_custom_filter_criterion(Reader& in, std::string& scratch,
                                  std::vector<CustomFilterCriterion>& criteria) {
  CustomFilterCriterion criterion;
  if (!in.literal(layout::kCustomType)) return false;
  const auto type = in.string(scratch);
  if (!type || type->empty()) return false;
  criterion.type = *type;
  if (!in.literal(layout::kCustomValue)) return false;
  const auto token = in.number();
  if (!token) return false;
  // Exact, unlike Boost.JSON 1.81, which may read a double one unit in the
  // last place away; out of range (1e400) is left to the general reader.
  const auto [end, ec] =
      std::from_chars(token->data(), token->data() + token->size(), criterion.value);
  if (ec != std::errc{} || end != token->data() + token->size()) return false;
  if (!is_exact_filter_token(*token, criterion.value)) return false;
  if (is_integer_filter_type(criterion.type) &&
      !is_integer_in(criterion.value, 0, kMaxFilterInteger)) {
    return false;
  }
  if (!in.literal(layout::kEnd)) return false;
  criteria.push_back(std::move(criterion));
  return true;
}

}  // namespace

std::optional<Icp> read_stored_icp(std::string_view text) {
  Reader in(text);
  std::string scratch;  // only for strings with escapes or non-ASCII bytes
  Icp icp;

  if (!in.literal(layout::kId)) return std::nullopt;
  const auto id_text = in.string(scratch);
  auto id = id_text ? canonical_icp_id(*id_text) : std::nullopt;
  if (!id) return std::nullopt;
  icp.id = std::move(*id);

  if (!in.literal(layout::kName)) return std::nullopt;
  const auto name = in.string(scratch);
  if (!name || name->empty()) return std::nullopt;
  icp.name = *name;

  if (!in.literal(layout::kDescription)) return std::nullopt;
  if (!in.literal(layout::kNull)) {
    const auto description = in.string(scratch);
    if (!description) return std::nullopt;
    icp.description.emplace(*description);
  }

  if (!in.literal(layout::kCreatedAt)) return std::nullopt;
  const auto created_at = read_timestamp(in, scratch);
  if (!created_at) return std::nullopt;
  icp.created_at = *created_at;

  if (!in.literal(layout::kUpdatedAt)) return std::nullopt;
  const auto updated_at = read_timestamp(in, scratch);
  if (!updated_at) return std::nullopt;
  icp.updated_at = *updated_at;

  if (!in.literal(layout::kUserIds) || !read_user_ids(in, scratch, icp.user_ids)) {
    return std::nullopt;
  }
  if (!in.literal(layout::kLeadsPerList) || !read_leads_per_list(in, icp.leads_per_list)) {
    return std::nullopt;
  }

  if (!in.literal(layout::kActiveUntil)) return std::nullopt;
  if (!in.literal(layout::kNull)) {
    icp.active_until = read_timestamp(in, scratch);
    if (!icp.active_until) return std::nullopt;
  }

  if (!in.literal(layout::kLeadProviderCriteria) || !read_elements(in, [&] {
        return read_lead_provider_criterion(in, scratch, icp.lead_provider_criteria);
      })) {
    return std::nullopt;
  }
  if (!in.literal(layout::kCustomFilterCriteria) || !read_elements(in, [&] {
        return read_custom_filter_criterion(in, scratch, icp.custom_filter_criteria);
      })) {
    return std::nullopt;
  }

  if (in.literal(layout::kCrmFilters)) {
    if (in.literal(layout::kNull)) {
      icp.crm_filters = OpaqueJson(nullptr);
    } else if (const auto crm_filters = in.object(layout::kCrmFiltersLevel)) {
      icp.crm_filters = OpaqueJsonAccess::from_valid_text(*crm_filters);
    } else {
      return std::nullopt;
    }
  }
  if (!in.literal(layout::kEnd) || !in.at_end()) return std::nullopt;
  return icp;
}

Result<Icp> parse_stored_icp(std::string_view text) {
  if (auto icp = read_stored_icp(text)) return std::move(*icp);
  // Not in to_json's layout (written by hand, or by an older version): the
  // general reader reads it, or says what is wrong with it. A U+0000 stored
  // before icp refused it is read, as the fast reader reads it.
  return parse_icp_keeping_nul(text);
}

}  // namespace icp::detail
