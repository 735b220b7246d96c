#include "transport/proxy/proxy_header.hpp"

#include <algorithm>
#include <charconv>
#include <cstring>

// PROXY protocol, https://www.haproxy.org/download/2.8/doc/proxy-protocol.txt
// v1 (§2.1): "PROXY" SP ("TCP4" | "TCP6" | "UNKNOWN") [SP src SP dst SP sport SP dport] CRLF,
//   at most 107 bytes; UNKNOWN may carry anything up to the CRLF, which is ignored.
// v2 (§2.2): 12-byte signature, ver_cmd (0x20 LOCAL, 0x21 PROXY), fam (0x11 TCP4, 0x21 TCP6,
//   0x00 UNSPEC, 0x31 UNIX...), 16-bit length of what follows: addresses, then TLVs (skipped).
//   LOCAL (health checks from the proxy itself): the connection's own address stands.

namespace transport::proxy {

namespace {

constexpr std::string_view v2_signature{"\r\n\r\n\0\r\nQUIT\n", 12};
constexpr std::string_view v1_prefix = "PROXY ";
// Both forms are at least this long (v1 "PROXY UNKNOWN\r\n" is 15): reading it first never
// reads past a header.
constexpr std::size_t first_read = 8;
constexpr std::size_t v2_fixed = 16;

proxy_header need(std::size_t n) {
  proxy_header h;
  h.need = n;
  return h;
}

proxy_header invalid(const char* why) {
  proxy_header h;
  h.state = proxy_header::status::invalid;
  h.error = why;
  return h;
}

proxy_header done(std::size_t length) {
  proxy_header h;
  h.state = proxy_header::status::done;
  h.length = length;
  return h;
}

bool parse_port(std::string_view s, std::uint16_t& out) {
  if (s.empty() || s.size() > 5 || (s.size() > 1 && s[0] == '0')) return false;
  unsigned v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || v > 65535) return false;
  out = static_cast<std::uint16_t>(v);
  return true;
}

/// Splits "a b c" at single spaces into exactly `n` fields.
template <std::size_t N>
bool split_fields(std::string_view s, std::string_view (&fields)[N]) {
  for (std::size_t i = 0; i < N; ++i) {
    const auto sp = s.find(' ');
    if ((sp == std::string_view::npos) != (i == N - 1)) return false;
    fields[i] = s.substr(0, sp);
    if (fields[i].empty()) return false;
    if (sp != std::string_view::npos) s.remove_prefix(sp + 1);
  }
  return true;
}

proxy_header parse_v1(std::string_view bytes) {
  const auto crlf = bytes.find("\r\n");
  if (crlf == std::string_view::npos) {
    if (bytes.size() >= max_v1_bytes) return invalid("v1 header without CRLF in 107 bytes");
    if (bytes.find('\n') != std::string_view::npos) return invalid("v1 header with a bare LF");
    return need(1);  // the CRLF may be the next byte: read one at a time
  }
  if (crlf + 2 > max_v1_bytes) return invalid("v1 header without CRLF in 107 bytes");
  const auto line = bytes.substr(v1_prefix.size(), crlf - v1_prefix.size());
  if (line.find('\n') != std::string_view::npos) return invalid("v1 header with a bare LF");
  if (line.starts_with("UNKNOWN")) return done(crlf + 2);
  std::string_view f[5];
  if (!split_fields(line, f)) return invalid("v1 header without five fields");
  const bool v4 = f[0] == "TCP4";
  if (!v4 && f[0] != "TCP6") return invalid("v1 protocol not TCP4, TCP6 or UNKNOWN");
  const bool src_v4 = f[1].find(':') == std::string_view::npos;
  const bool dst_v4 = f[2].find(':') == std::string_view::npos;
  const auto src = parse_ip(f[1]);
  std::uint16_t sport = 0, dport = 0;
  if (!src || !parse_ip(f[2]) || src_v4 != v4 || dst_v4 != v4)
    return invalid("v1 address not of its protocol");
  if (!parse_port(f[3], sport) || !parse_port(f[4], dport)) return invalid("v1 bad port");
  auto h = done(crlf + 2);
  h.has_source = true;
  h.source = *src;
  h.source_port = sport;
  return h;
}

std::uint16_t be16(const unsigned char* p) {
  return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}

proxy_header parse_v2(std::string_view bytes) {
  if (bytes.size() < v2_fixed) return need(v2_fixed - bytes.size());
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  const unsigned version = p[12] >> 4, command = p[12] & 0x0f;
  if (version != 2) return invalid("v2 version is not 2");
  if (command > 1) return invalid("v2 command is neither LOCAL nor PROXY");
  const std::size_t payload = be16(p + 14);
  if (payload > max_v2_payload) return invalid("v2 header longer than 4096 bytes");
  if (bytes.size() < v2_fixed + payload) return need(v2_fixed + payload - bytes.size());
  auto h = done(v2_fixed + payload);
  if (command == 0) return h;  // LOCAL: the proxy speaking for itself
  const unsigned family = p[13] >> 4;
  const unsigned char* a = p + v2_fixed;
  if (family == 1) {  // AF_INET: src 4, dst 4, sport 2, dport 2
    if (payload < 12) return invalid("v2 TCP4 block shorter than 12 bytes");
    h.source = ip_bytes{};
    h.source[10] = h.source[11] = 0xff;
    std::memcpy(h.source.data() + 12, a, 4);
    h.source_port = be16(a + 8);
    h.has_source = true;
  } else if (family == 2) {  // AF_INET6: src 16, dst 16, sport 2, dport 2
    if (payload < 36) return invalid("v2 TCP6 block shorter than 36 bytes");
    std::memcpy(h.source.data(), a, 16);
    h.source_port = be16(a + 32);
    h.has_source = true;
  } else if (family > 3) {
    return invalid("v2 unknown address family");
  }
  return h;  // AF_UNSPEC and AF_UNIX carry no address of ours
}

}  // namespace

proxy_header parse_proxy_header(std::string_view bytes) noexcept {
  const auto seen = std::min(bytes.size(), v2_signature.size());
  if (bytes.substr(0, seen) == v2_signature.substr(0, seen)) {
    if (bytes.size() < first_read) return need(first_read - bytes.size());
    if (bytes.size() < v2_signature.size()) return need(v2_fixed - bytes.size());
    return parse_v2(bytes);
  }
  const auto v1_seen = std::min(bytes.size(), v1_prefix.size());
  if (bytes.substr(0, v1_seen) != v1_prefix.substr(0, v1_seen)) return invalid("no PROXY header");
  if (bytes.size() < first_read) return need(first_read - bytes.size());
  return parse_v1(bytes);
}

std::string printable_source(const proxy_header& h) {
  const auto ip = to_string(h.source);
  const bool v6 = ip.find(':') != std::string::npos;
  return (v6 ? "[" + ip + "]" : ip) + ":" + std::to_string(h.source_port);
}

}  // namespace transport::proxy
