#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include <boost/asio/ip/tcp.hpp>

#include "broker/connection.hpp"
#include "transport/detail/admission.hpp"

namespace transport::detail {

class server_state;

/// Starts an HTTP/WebSocket connection (TLS when the server has a TLS context) on an accepted
/// socket whose executor is the connection's own strand: reads the HTTP request, answers the
/// page or 404, or upgrades to STOMP over WebSocket. `ticket`: the socket's place in the
/// connection limits, held until it closes (or handed to the HTTP exchange that takes the
/// socket over). `remote`: the client's address when a proxy named it (PROXY protocol), empty
/// for the socket's own. Any thread.
void start_ws_connection(boost::asio::ip::tcp::socket socket,
                         const std::shared_ptr<server_state>& server,
                         admission_ticket ticket, std::string remote = {});

/// The WebSocket close code for a close reason (RFC 6455 §7.4.1): 1000 normal, 1001 shutdown,
/// 1002 protocol/auth/slow consumer, 1008 timeouts, 1009 frame too large, 1011 server error.
std::uint16_t close_code(broker::close_reason why) noexcept;

}  // namespace transport::detail
