#pragma once

#include <memory>
#include <string>

#include <boost/asio/ip/tcp.hpp>

#include "transport/detail/admission.hpp"

namespace transport::detail {

class server_state;

/// Starts a STOMP-over-TCP connection (TLS when the server has a TLS context) on an accepted
/// socket whose executor is the connection's own strand. `ticket`: the socket's place in the
/// connection limits, held until it closes. `remote`: the client's address when a proxy named
/// it (PROXY protocol), empty for the socket's own. Any thread.
void start_tcp_connection(boost::asio::ip::tcp::socket socket,
                          const std::shared_ptr<server_state>& server,
                          admission_ticket ticket, std::string remote = {});

}  // namespace transport::detail
