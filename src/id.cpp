#include <icp/id.hpp>

#include <boost/uuid/random_generator.hpp>
#include <boost/uuid/uuid_io.hpp>

#include <array>

namespace icp {

namespace {

constexpr std::array<std::size_t, 4> kDashPositions{8, 13, 18, 23};
constexpr std::size_t kUuidLength = 36;

char lower_hex_digit(char c) noexcept {
  if (c >= '0' && c <= '9') return c;
  if (c >= 'a' && c <= 'f') return c;
  if (c >= 'A' && c <= 'F') return static_cast<char>(c - 'A' + 'a');
  return '\0';
}

}  // namespace

// Checked by hand: Boost.UUID's string_generator also accepts braces and the
// undashed form, which the API's 8-4-4-4-12 shape excludes, and it throws.
std::optional<std::string> canonical_icp_id(std::string_view text) {
  if (text.size() != kUuidLength) return std::nullopt;
  std::string canonical(text);
  for (std::size_t i = 0; i < canonical.size(); ++i) {
    const bool dash_expected = std::ranges::find(kDashPositions, i) != kDashPositions.end();
    if (dash_expected) {
      if (canonical[i] != '-') return std::nullopt;
      continue;
    }
    const char digit = lower_hex_digit(canonical[i]);
    if (digit == '\0') return std::nullopt;
    canonical[i] = digit;
  }
  return canonical;
}

std::string new_icp_id() {
  // One generator per thread: random_generator is not thread-safe and seeding
  // it from the OS on every call would cost a system call each time.
  thread_local boost::uuids::random_generator generator;
  return boost::uuids::to_string(generator());
}

}  // namespace icp
