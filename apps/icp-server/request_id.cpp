#include "request_id.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <random>

namespace icp::server {

bool is_valid_request_id(std::string_view id) noexcept {
  if (id.empty() || id.size() > kMaxRequestIdBytes) return false;
  return std::ranges::all_of(id, [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == ':' || c == '+' || c == '/' || c == '=' || c == '-';
  });
}

std::string new_request_id() {
  // One random seed per thread, then a 64-bit generator: a request id needs
  // uniqueness, not unpredictability, and random_device per request costs a
  // system call.
  thread_local std::mt19937_64 random{[] {
    std::random_device device;
    return (std::uint64_t{device()} << 32) | device();
  }()};
  constexpr std::array<char, 16> kHex{'0', '1', '2', '3', '4', '5', '6', '7',
                                      '8', '9', 'a', 'b', 'c', 'd', 'e', 'f'};
  std::string id(32, '0');
  for (std::size_t half = 0; half < 2; ++half) {
    auto bits = random();
    for (std::size_t i = 0; i < 16; ++i, bits >>= 4) id[half * 16 + i] = kHex.at(bits & 0xf);
  }
  return id;
}

}  // namespace icp::server
