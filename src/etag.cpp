#include <icp/etag.hpp>

#include <algorithm>
#include <charconv>
#include <optional>
#include <random>

namespace icp {

namespace {

constexpr std::size_t kHexDigits = 16;

bool is_ows(char c) { return c == ' ' || c == '\t'; }

/// etagc (RFC 9110, section 8.8.3): %x21 / %x23-7E / obs-text.
bool is_etag_char(char c) {
  const auto byte = static_cast<unsigned char>(c);
  return byte == 0x21 || (byte >= 0x23 && byte != 0x7f);
}

/// Reads one list of entity tags, appending the revisions of the strong tags
/// that etag_of could have written. False for anything that is not
/// `#entity-tag`.
bool read_tags(std::string_view text, std::vector<std::uint64_t>& revisions) {
  std::size_t at = 0;
  auto skip_ows = [&] {
    while (at < text.size() && is_ows(text[at])) ++at;
  };
  while (true) {
    // Empty elements (`, ,`) are allowed in a list and mean nothing.
    skip_ows();
    if (at == text.size()) return true;
    if (text[at] == ',') {
      ++at;
      continue;
    }
    bool weak = false;
    if (text.substr(at).starts_with("W/")) {
      weak = true;
      at += 2;
    }
    if (at == text.size() || text[at] != '"') return false;
    const auto opaque_start = ++at;
    while (at < text.size() && is_etag_char(text[at])) ++at;
    if (at == text.size() || text[at] != '"') return false;
    const auto opaque = text.substr(opaque_start, at - opaque_start);
    ++at;
    // Strong comparison is of the characters: only etag_of's spelling (16
    // lower-case hex digits) can equal a tag we wrote.
    const bool ours =
        !weak && opaque.size() == kHexDigits && std::ranges::all_of(opaque, [](char c) {
          return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
        });
    if (ours) {
      std::uint64_t revision = 0;
      std::from_chars(opaque.data(), opaque.data() + opaque.size(), revision, 16);
      revisions.push_back(revision);
    }
    skip_ows();
    if (at == text.size()) return true;
    if (text[at] != ',') return false;
    ++at;
  }
}

}  // namespace

std::string etag_of(const Icp& icp) {
  // By hand, not fmt: one per single-ICP answer, and this is what it writes.
  std::string tag(kHexDigits + 2, '0');
  tag.front() = tag.back() = '"';
  for (std::uint64_t left = icp.revision, at = kHexDigits; left != 0; left >>= 4) {
    tag[at--] = "0123456789abcdef"[left & 0xf];
  }
  return tag;
}

bool IfMatch::matches(std::uint64_t revision) const noexcept {
  return any_ || std::ranges::find(revisions_, revision) != revisions_.end();
}

IfMatch parse_if_match(std::span<const std::string_view> field_values) {
  std::vector<std::uint64_t> revisions;
  bool star = false;
  std::size_t fields = 0;
  for (auto value : field_values) {
    ++fields;
    const auto first = value.find_first_not_of(" \t");
    const auto last = value.find_last_not_of(" \t");
    const auto trimmed = first == std::string_view::npos ? std::string_view{}
                                                         : value.substr(first, last - first + 1);
    if (trimmed == "*") {
      star = true;
    } else if (!read_tags(trimmed, revisions)) {
      return IfMatch::nothing();
    }
  }
  // `*` stands alone: in a list with anything else it is not valid syntax.
  if (star) return fields == 1 ? IfMatch::any() : IfMatch::nothing();
  return IfMatch::one_of(std::move(revisions));
}

IfMatch parse_if_match(std::string_view field_value) {
  return parse_if_match(std::span<const std::string_view>(&field_value, 1));
}

std::uint64_t new_revision() {
  // One engine per thread, seeded from the OS once: std::random_device per
  // call would cost a system call on every write.
  thread_local std::mt19937_64 engine = [] {
    std::random_device device;
    std::seed_seq seed{device(), device(), device(), device()};
    return std::mt19937_64(seed);
  }();
  std::uint64_t revision = 0;
  while (revision == 0) revision = engine();
  return revision;
}

}  // namespace icp
