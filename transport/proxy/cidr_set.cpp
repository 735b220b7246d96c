#include "transport/proxy/cidr_set.hpp"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

// Addresses are parsed with inet_pton (POSIX, no Asio): this file parses, it does no I/O.

namespace transport::proxy {

namespace {

constexpr unsigned v4_offset_bits = 96;  // an IPv4 address sits in the last 32 of 128 bits

bool is_v4_mapped(const ip_bytes& ip) noexcept {
  for (int i = 0; i < 10; ++i)
    if (ip[static_cast<std::size_t>(i)] != 0) return false;
  return ip[10] == 0xff && ip[11] == 0xff;
}

}  // namespace

std::optional<ip_bytes> parse_ip(std::string_view text) noexcept {
  char buf[INET6_ADDRSTRLEN + 1];
  if (text.empty() || text.size() >= sizeof buf) return std::nullopt;
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  ip_bytes out{};
  if (text.find(':') == std::string_view::npos) {
    in_addr v4{};
    if (inet_pton(AF_INET, buf, &v4) != 1) return std::nullopt;
    out[10] = out[11] = 0xff;
    std::memcpy(out.data() + 12, &v4, 4);
    return out;
  }
  in6_addr v6{};
  if (inet_pton(AF_INET6, buf, &v6) != 1) return std::nullopt;
  std::memcpy(out.data(), &v6, 16);
  return out;
}

std::string to_string(const ip_bytes& ip) {
  char buf[INET6_ADDRSTRLEN];
  if (is_v4_mapped(ip)) {
    if (!inet_ntop(AF_INET, ip.data() + 12, buf, sizeof buf)) return "?";
  } else if (!inet_ntop(AF_INET6, ip.data(), buf, sizeof buf)) {
    return "?";
  }
  return buf;
}

bool cidr_set::add(std::string_view entry) {
  const auto slash = entry.find('/');
  const auto ip = parse_ip(entry.substr(0, slash));
  if (!ip) return false;
  const bool v4 = entry.substr(0, slash).find(':') == std::string_view::npos;
  const unsigned family_bits = v4 ? 32 : 128;
  unsigned prefix = family_bits;
  if (slash != std::string_view::npos) {
    const auto digits = entry.substr(slash + 1);
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), prefix);
    if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() ||
        prefix > family_bits)
      return false;
  }
  ranges_.push_back({*ip, v4 ? prefix + v4_offset_bits : prefix});
  return true;
}

std::optional<cidr_set> cidr_set::parse(const std::vector<std::string>& entries, std::string* bad) {
  cidr_set set;
  for (const auto& e : entries) {
    if (!set.add(e)) {
      if (bad) *bad = e;
      return std::nullopt;
    }
  }
  return set;
}

bool cidr_set::contains(const ip_bytes& ip) const noexcept {
  for (const auto& r : ranges_) {
    const unsigned whole = r.prefix / 8;
    const unsigned rest = r.prefix % 8;
    if (std::memcmp(r.base.data(), ip.data(), whole) != 0) continue;
    if (rest == 0) return true;
    const auto mask = static_cast<std::uint8_t>(0xff << (8 - rest));
    if ((r.base[whole] & mask) == (ip[whole] & mask)) return true;
  }
  return false;
}

bool cidr_set::contains(std::string_view ip) const noexcept {
  const auto parsed = parse_ip(ip);
  return parsed && contains(*parsed);
}

}  // namespace transport::proxy
