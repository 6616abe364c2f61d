#include <icp/etag.hpp>

#include <fmt/format.h>

#include <charconv>
#include <random>

namespace icp {

namespace {
constexpr std::size_t kHexDigits = 16;
}  // namespace

std::string etag_of(const Icp& icp) { return fmt::format("\"{:016x}\"", icp.revision); }

std::optional<IfMatch> parse_if_match(std::string_view value) {
  const auto first = value.find_first_not_of(" \t");
  const auto last = value.find_last_not_of(" \t");
  if (first == std::string_view::npos) return std::nullopt;
  value = value.substr(first, last - first + 1);
  if (value == "*") return IfMatch{};
  if (value.size() != kHexDigits + 2 || value.front() != '"' || value.back() != '"') {
    return std::nullopt;
  }
  const auto digits = value.substr(1, kHexDigits);
  std::uint64_t revision = 0;
  const auto [end, ec] =
      std::from_chars(digits.data(), digits.data() + digits.size(), revision, 16);
  if (ec != std::errc{} || end != digits.data() + digits.size()) return std::nullopt;
  return IfMatch{revision};
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
