#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <boost/asio/ip/tcp.hpp>

#include "transport/proxy/forwarded.hpp"

namespace transport::detail {

class server_state;

/// What a listener does with an accepted socket: admission (a socket from a trusted proxy
/// counts against max_connections at once, against max_connections_per_ip once its client is
/// known), then, with `[websocket|tcp] proxy_protocol`, the PROXY header (a socket without a
/// valid one is closed, logged at most once a second; its address is believed only from a
/// trusted peer), then the WebSocket or TCP connection, whose peer_info::remote is the client.
/// Listener strand.
void accept_peer(boost::asio::ip::tcp::socket socket, const std::shared_ptr<server_state>& state,
                 bool websocket);

/// The client of an HTTP request on the WebSocket port whose peer (`remote`) is a trusted
/// proxy, from its forwarding headers (proxy::pick_client). Unusable headers are logged at
/// debug, escaped; the request then keeps `remote`'s address. Thread-safe.
proxy::forwarded_client client_behind_proxy(const server_state& state, std::string_view remote,
                                            const proxy::forwarding_headers& headers);

}  // namespace transport::detail
