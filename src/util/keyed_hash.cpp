#include "util/keyed_hash.hpp"

#include <bit>
#include <chrono>
#include <random>

namespace icp::detail {
namespace {

struct SipState {
  std::uint64_t v0, v1, v2, v3;

  void round() noexcept {
    v0 += v1;
    v1 = std::rotl(v1, 13);
    v1 ^= v0;
    v0 = std::rotl(v0, 32);
    v2 += v3;
    v3 = std::rotl(v3, 16);
    v3 ^= v2;
    v0 += v3;
    v3 = std::rotl(v3, 21);
    v3 ^= v0;
    v2 += v1;
    v1 = std::rotl(v1, 17);
    v1 ^= v2;
    v2 = std::rotl(v2, 32);
  }

  template <int Rounds>
  void absorb(std::uint64_t word) noexcept {
    v3 ^= word;
    for (int i = 0; i < Rounds; ++i) round();
    v0 ^= word;
  }
};

std::uint64_t little_endian_word(const char* bytes, std::size_t count) noexcept {
  std::uint64_t word = 0;
  for (std::size_t i = 0; i < count; ++i) {
    word |= static_cast<std::uint64_t>(static_cast<unsigned char>(bytes[i])) << (8 * i);
  }
  return word;
}

}  // namespace

template <int CompressionRounds, int FinalizationRounds>
std::uint64_t siphash(std::string_view data, SipKey key) noexcept {
  SipState state{key.k0 ^ 0x736f6d6570736575ULL, key.k1 ^ 0x646f72616e646f6dULL,
                 key.k0 ^ 0x6c7967656e657261ULL, key.k1 ^ 0x7465646279746573ULL};
  const std::size_t whole = data.size() / 8 * 8;
  for (std::size_t offset = 0; offset < whole; offset += 8) {
    // Byte by byte, so the order is right on any machine; GCC and Clang fold
    // it into one load on little-endian ones.
    state.absorb<CompressionRounds>(little_endian_word(data.data() + offset, 8));
  }
  const std::uint64_t last = little_endian_word(data.data() + whole, data.size() - whole) |
                             (static_cast<std::uint64_t>(data.size() & 0xff) << 56);
  state.absorb<CompressionRounds>(last);
  state.v2 ^= 0xff;
  for (int i = 0; i < FinalizationRounds; ++i) state.round();
  return state.v0 ^ state.v1 ^ state.v2 ^ state.v3;
}

template std::uint64_t siphash<1, 3>(std::string_view, SipKey) noexcept;
template std::uint64_t siphash<2, 4>(std::string_view, SipKey) noexcept;

SipKey process_sip_key() noexcept {
  try {
    std::random_device device;
    const auto draw = [&device] { return (static_cast<std::uint64_t>(device()) << 32) | device(); };
    return SipKey{draw(), draw()};
  } catch (...) {
    // No entropy source: fall back to the clocks, which still keep the key
    // out of a remote attacker's reach.
    const auto since = [](auto clock_now) {
      return static_cast<std::uint64_t>(clock_now.time_since_epoch().count());
    };
    return SipKey{since(std::chrono::steady_clock::now()), since(std::chrono::system_clock::now())};
  }
}

}  // namespace icp::detail
