#pragma once

// A hash for sets of strings that come from outside (user ids, JSON keys).
// std::hash<string_view> is MurmurHash with a fixed seed, and Murmur has
// seed-independent multicollisions: a body of crafted keys would put them all
// in one bucket and make a "linear" duplicate check quadratic. SipHash with a
// key drawn once per process is the standard answer (Python, Rust, Perl use
// it for the same reason). Written here because no Debian-packaged C++
// library offers it cheaply: OpenSSL's EVP_MAC "SIPHASH" allocates and
// initialises a context per call, more than the hash itself costs.

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace icp::detail {

struct SipKey {
  std::uint64_t k0 = 0;
  std::uint64_t k1 = 0;
};

/// SipHash-c-d of `data` under `key` (the reference algorithm of Aumasson and
/// Bernstein, 2012). The sets below use SipHash-1-3, as Python and Rust do.
template <int CompressionRounds, int FinalizationRounds>
[[nodiscard]] std::uint64_t siphash(std::string_view data, SipKey key) noexcept;

extern template std::uint64_t siphash<1, 3>(std::string_view, SipKey) noexcept;
extern template std::uint64_t siphash<2, 4>(std::string_view, SipKey) noexcept;

/// This process's key, drawn from std::random_device at first use.
[[nodiscard]] SipKey process_sip_key() noexcept;

/// A drop-in Hash for unordered containers of strings from outside.
struct KeyedHash {
  [[nodiscard]] std::size_t operator()(std::string_view text) const noexcept {
    static const SipKey key = process_sip_key();
    return static_cast<std::size_t>(siphash<1, 3>(text, key));
  }
};

}  // namespace icp::detail
