#pragma once

#include <string>
#include <string_view>

#include <boost/asio/ip/tcp.hpp>

#include "transport/detail/admission.hpp"
#include "transport/server.hpp"

namespace transport::detail {

class server_state;

/// What a refused peer is told before any handshake: on the WebSocket port an HTTP response
/// (503 for the connection limits, with a short text body), on the TCP port a STOMP ERROR frame
/// (`message:too many connections`). The peer's request is never read.
std::string refusal_bytes(bool websocket, refusal why);
/// The one-line text body of a refusal ("too many connections from your address\n").
std::string refusal_body(refusal why);

/// The gate every accepted socket passes (server_config::max_connections,
/// max_connections_per_ip): true when the connection may start (it is then counted until
/// `ticket`, filled here, is released: whoever holds the socket holds the ticket); false when
/// it was refused (counted in stats::refused, logged at most
/// once a second per reason, the socket handed to a refusal that answers and closes it). With
/// TLS the refusal is a plain close: answering would cost a TLS handshake. `defer_per_ip`: a
/// trusted proxy's socket, counted in the total only until admission::rekey names its client.
/// Listener strand.
bool admit(boost::asio::ip::tcp::socket& socket, server_state& state, bool websocket,
           admission_ticket& ticket, bool defer_per_ip = false);

/// Answers `why` as admit() does (the refusal bytes, then close; with TLS a plain close) and
/// takes the socket. Does not count: count_refusal does. Socket's strand.
void refuse(boost::asio::ip::tcp::socket& socket, server_state& state, bool websocket,
            refusal why);

/// Counts a refusal in stats::refused and logs it (at most one line a second per reason), with
/// `detail` (escaped by the caller) in place of the reason's stock explanation when given.
/// Thread-safe.
void count_refusal(server_state& state, refusal why, const std::string& remote,
                   std::string_view detail = {});

/// The fd-limit path (accept failed with EMFILE, the reserve descriptor spent on `socket`):
/// counts and answers as admit() does, synchronously and without blocking, then closes.
void refuse_at_fd_limit(boost::asio::ip::tcp::socket& socket, server_state& state, bool websocket);

}  // namespace transport::detail
