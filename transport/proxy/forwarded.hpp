#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "transport/proxy/cidr_set.hpp"

namespace transport::proxy {

/// The forwarding headers of one HTTP request, each header line's value in arrival order.
struct forwarding_headers {
  std::vector<std::string_view> forwarded;        ///< RFC 7239 `Forwarded`
  std::vector<std::string_view> x_forwarded_for;  ///< de facto `X-Forwarded-For`
};

/// Who sent a request that reached us through trusted proxies.
struct forwarded_client {
  std::string ip;       ///< the client's address (printable, no port); the socket's when !found
  bool found = false;   ///< true when `ip` came from a header
  std::string problem;  ///< why a header present was not used (unparsable hop), else empty
};

/// The client address of a request whose socket peer `socket_ip` is a trusted proxy: the
/// rightmost hop of `Forwarded` (`for=`; preferred when present) or else `X-Forwarded-For`
/// that is not itself in `trusted`, or the leftmost hop when all are trusted. A hop that does
/// not parse (garbage, `unknown`, an obfuscated name) stops the walk: the socket address is
/// used and `problem` says why. Never throws on peer input; pure.
forwarded_client pick_client(const forwarding_headers& headers, std::string_view socket_ip,
                             const cidr_set& trusted);

}  // namespace transport::proxy
