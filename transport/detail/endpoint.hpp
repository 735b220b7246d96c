#pragma once

#include <string>
#include <string_view>

#include <boost/asio/ip/tcp.hpp>

namespace transport::detail {

/// "ip:port" ("[ip]:port" for IPv6, RFC 3986 §3.2.2, so the port stays apart), the form every
/// log line, metric label and peer_info uses for a peer.
inline std::string to_string(const boost::asio::ip::tcp::endpoint& ep) {
  const auto ip = ep.address().to_string();
  return (ep.address().is_v6() ? "[" + ip + "]" : ip) + ":" + std::to_string(ep.port());
}

/// The peer of `socket` as "ip:port", or "?" when it is already gone.
inline std::string remote_of(const boost::asio::ip::tcp::socket& socket) {
  boost::system::error_code ec;
  const auto ep = socket.remote_endpoint(ec);
  return ec ? std::string("?") : to_string(ep);
}

/// The address part of a peer_info::remote ("ip:port", "[v6]:port" or a bare address, as a
/// client named by a proxy header is): what per-IP decisions key on. auth::peer_ip reads the
/// same forms for the failed-login limiter (transport may not include auth/).
inline std::string_view ip_of(std::string_view remote) noexcept {
  if (remote.starts_with('[')) {
    const auto close = remote.find(']');
    return close == std::string_view::npos ? remote : remote.substr(1, close - 1);
  }
  const auto colon = remote.find(':');
  if (colon == std::string_view::npos) return remote;
  if (remote.find(':', colon + 1) != std::string_view::npos) return remote;  // bare IPv6
  return remote.substr(0, colon);
}

}  // namespace transport::detail
