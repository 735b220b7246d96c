#pragma once

#include <string>
#include <string_view>
#include <system_error>

namespace cluster {

/// Where Redis listens, from a `redis://host:port[/db]` URL.
struct redis_endpoint {
  std::string host = "127.0.0.1";
  int port = 6379;
  int db = 0;  ///< pub/sub ignores it; it separates clusters' channel names (see channels.hpp)
};

/// Parses `redis://host[:port][/db]` (port 6379 and db 0 by default; `[v6]` hosts allowed).
/// Returns std::errc::invalid_argument for anything else (no password, no TLS: not supported).
/// Thread-safe (pure).
std::error_code parse_redis_url(std::string_view url, redis_endpoint& out);

}  // namespace cluster
