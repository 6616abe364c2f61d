#include "util/keyed_hash.hpp"

#include <catch2/catch.hpp>

#include <string>

namespace {

// The message of the reference test vectors: bytes 0, 1, ..., length - 1.
std::string counting_bytes(std::size_t length) {
  std::string bytes(length, '\0');
  for (std::size_t i = 0; i < length; ++i) bytes[i] = static_cast<char>(i);
  return bytes;
}

constexpr icp::detail::SipKey kReferenceKey{0x0706050403020100ULL, 0x0f0e0d0c0b0a0908ULL};

}  // namespace

TEST_CASE("SipHash-2-4 gives the reference vectors of its paper", "[hash]") {
  using icp::detail::siphash;
  CHECK(siphash<2, 4>(counting_bytes(0), kReferenceKey) == 0x726fdb47dd0e0e31ULL);
  CHECK(siphash<2, 4>(counting_bytes(1), kReferenceKey) == 0x74f839c593dc67fdULL);
  CHECK(siphash<2, 4>(counting_bytes(8), kReferenceKey) == 0x93f5f5799a932462ULL);
  CHECK(siphash<2, 4>(counting_bytes(15), kReferenceKey) == 0xa129ca6149be45e5ULL);
}

TEST_CASE("the keyed hash depends on its key and on every byte", "[hash]") {
  using icp::detail::siphash;
  const std::string text = "user_2abcdefghijklmnopqrstuvwxyz";
  CHECK(siphash<1, 3>(text, {1, 2}) != siphash<1, 3>(text, {1, 3}));
  CHECK(siphash<1, 3>(text, {1, 2}) == siphash<1, 3>(text, {1, 2}));
  for (std::size_t i = 0; i < text.size(); ++i) {
    std::string changed = text;
    changed[i] ^= 1;
    CHECK(siphash<1, 3>(changed, {1, 2}) != siphash<1, 3>(text, {1, 2}));
  }
  // The length is part of the hash: trailing zero bytes are not ignored.
  CHECK(siphash<1, 3>(std::string(7, '\0'), {1, 2}) != siphash<1, 3>(std::string(8, '\0'), {1, 2}));
}

TEST_CASE("the process key is drawn, not fixed", "[hash]") {
  const auto key = icp::detail::process_sip_key();
  const auto other = icp::detail::process_sip_key();
  CHECK((key.k0 != other.k0 || key.k1 != other.k1));
  const icp::detail::KeyedHash hash;
  CHECK(hash("a") == hash("a"));
  CHECK(hash("a") != hash("b"));
}
