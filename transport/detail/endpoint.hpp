#pragma once

#include <string>

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

}  // namespace transport::detail
