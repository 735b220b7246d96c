#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace transport::proxy {

/// An IPv4 or IPv6 address as 16 bytes (IPv4 as ::ffff:a.b.c.d, RFC 4291 §2.5.5.2), so one
/// comparison serves both families.
using ip_bytes = std::array<std::uint8_t, 16>;

/// Parses a bare address ("192.0.2.7", "2001:db8::1", "::ffff:10.0.0.1"). No port, no
/// brackets, no zone. nullopt when it is not one. Never throws.
std::optional<ip_bytes> parse_ip(std::string_view text) noexcept;

/// The printable form of an address: dotted quad for IPv4 (and IPv4-mapped IPv6), RFC 5952
/// text for IPv6.
std::string to_string(const ip_bytes& ip);

/// A set of addresses and CIDR ranges ("10.0.0.0/8", "127.0.0.1", "fd00::/8"): the proxies
/// whose forwarding headers and PROXY protocol headers are believed ([proxies] trusted).
/// Immutable after construction; thread-safe to read.
class cidr_set {
 public:
  cidr_set() = default;

  /// Adds one entry; false (and nothing added) when it is neither an address nor a range
  /// with a prefix length in range for its family.
  bool add(std::string_view entry);
  /// Builds a set from config entries; `bad` receives the first entry that does not parse.
  static std::optional<cidr_set> parse(const std::vector<std::string>& entries,
                                       std::string* bad = nullptr);

  bool contains(const ip_bytes& ip) const noexcept;
  /// False for text that is not a bare address.
  bool contains(std::string_view ip) const noexcept;
  bool empty() const noexcept { return ranges_.empty(); }

 private:
  struct range {
    ip_bytes base;
    unsigned prefix;  ///< leading bits that must match (0..128)
  };
  std::vector<range> ranges_;
};

}  // namespace transport::proxy
