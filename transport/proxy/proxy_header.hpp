#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "transport/proxy/cidr_set.hpp"

namespace transport::proxy {

/// What the bytes at the start of a connection say as a PROXY protocol header (HAProxy's
/// proxy-protocol.txt, v1 text and v2 binary).
struct proxy_header {
  enum class status : std::uint8_t {
    need_more,  ///< read exactly `need` more bytes, then parse everything again
    done,       ///< a whole header of `length` bytes
    invalid,    ///< not a PROXY header, or a malformed one (`error` says which rule)
  };
  status state = status::need_more;
  std::size_t need = 0;    ///< need_more: bytes to read next, never past the header's end
  std::size_t length = 0;  ///< done: the header's size; what follows belongs to the stream
  bool has_source = false;  ///< done: false for v2 LOCAL, v1 UNKNOWN, unspec and unix families
  ip_bytes source{};        ///< has_source: the client's address
  std::uint16_t source_port = 0;
  const char* error = "";  ///< invalid: a short static description
};

/// Longest v1 header, CRLF included (proxy-protocol.txt §2.1).
inline constexpr std::size_t max_v1_bytes = 107;
/// Longest v2 address-and-TLV block we accept (the spec allows 65535): TLVs are skipped, and a
/// peer must not make us hold 64 KiB per connection before it says anything.
inline constexpr std::size_t max_v2_payload = 4096;

/// Parses the first bytes of a connection. Feed everything read so far; when need_more, read
/// exactly `need` more bytes: the reader never consumes a byte past the header, so TLS, HTTP or
/// STOMP that follows is untouched. Pure; never throws.
proxy_header parse_proxy_header(std::string_view bytes) noexcept;

/// "ip:port" for IPv4, "[ip]:port" for IPv6: the form of peer_info::remote.
std::string printable_source(const proxy_header& h);

}  // namespace transport::proxy
