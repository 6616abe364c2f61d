#include "clerk/base64url.hpp"

#include <array>
#include <cstdint>

namespace icp::detail {

std::optional<std::string_view> decode_base64url(std::string_view text, std::string& out,
                                                 std::size_t at) {
  static constexpr auto kValues = [] {
    std::array<std::int8_t, 256> values{};
    values.fill(-1);
    constexpr std::string_view kAlphabet =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    for (std::size_t i = 0; i < kAlphabet.size(); ++i) {
      values.at(static_cast<unsigned char>(kAlphabet[i])) = static_cast<std::int8_t>(i);
    }
    return values;
  }();
  const auto value = [&](std::size_t i) {
    return static_cast<int>(kValues[static_cast<unsigned char>(text[i])]);
  };
  const std::size_t tail = text.size() % 4;
  if (tail == 1) return std::nullopt;
  const std::size_t start = at;
  const std::size_t size = text.size() / 4 * 3 + (tail == 0 ? 0 : tail - 1);
  if (out.size() < at + size) out.resize(at + size);
  std::size_t i = 0;
  // Four characters make three bytes; a negative value is a character
  // outside the alphabet, and taints the OR of the four.
  for (; i + 4 <= text.size(); i += 4) {
    const int a = value(i);
    const int b = value(i + 1);
    const int c = value(i + 2);
    const int d = value(i + 3);
    if ((a | b | c | d) < 0) return std::nullopt;
    const auto bits = static_cast<std::uint32_t>((a << 18) | (b << 12) | (c << 6) | d);
    out[at++] = static_cast<char>(bits >> 16U);
    out[at++] = static_cast<char>((bits >> 8U) & 0xffU);
    out[at++] = static_cast<char>(bits & 0xffU);
  }
  if (tail >= 2) {
    const int a = value(i);
    const int b = value(i + 1);
    const int c = tail == 3 ? value(i + 2) : 0;
    if ((a | b | c) < 0) return std::nullopt;
    const auto bits = static_cast<std::uint32_t>((a << 18) | (b << 12) | (c << 6));
    // A canonical encoding leaves the unused low bits zero.
    if ((bits & (tail == 2 ? 0xffffU : 0xffU)) != 0) return std::nullopt;
    out[at++] = static_cast<char>(bits >> 16U);
    if (tail == 3) out[at] = static_cast<char>((bits >> 8U) & 0xffU);
  }
  return std::string_view(out).substr(start, size);
}

}  // namespace icp::detail
