#include "transport/proxy/client_address.hpp"

#include <spdlog/spdlog.h>

#include "broker/printable.hpp"

#include "transport/detail/endpoint.hpp"
#include "transport/detail/refusal.hpp"
#include "transport/detail/server_state.hpp"
#include "transport/detail/tcp_connection.hpp"
#include "transport/detail/ws_connection.hpp"
#include "transport/proxy/proxy_reader.hpp"

namespace transport::detail {

namespace {

namespace net = boost::asio;
using tcp = net::ip::tcp;
using error_code = boost::system::error_code;

void start(tcp::socket socket, const std::shared_ptr<server_state>& state, bool websocket,
           admission_ticket ticket, std::string remote) {
  if (websocket) {
    start_ws_connection(std::move(socket), state, std::move(ticket), std::move(remote));
  } else {
    start_tcp_connection(std::move(socket), state, std::move(ticket), std::move(remote));
  }
}

void log_bad_header(server_state& state, const std::string& remote, const char* why) {
  std::uint64_t suppressed = 0;
  if (state.bad_proxy_header_logs.allow(suppressed)) {
    spdlog::warn("closed {}: no valid PROXY protocol header ({}; {} more since the last line)",
                 remote, why, suppressed);
  }
}

// The header is read; decide who the client is, count it per IP, then start the connection.
void on_header(const std::shared_ptr<server_state>& state, bool websocket, admission_ticket ticket,
               const error_code& ec, const proxy::proxy_header& header, tcp::socket socket) {
  const auto socket_remote = remote_of(socket);
  if (ec || header.state != proxy::proxy_header::status::done) {
    const char* why = !ec                          ? header.error
                      : ec == net::error::timed_out ? "none within the handshake timeout"
                                                    : "the peer left before sending one";
    log_bad_header(*state, socket_remote, why);
    error_code ignored;
    socket.close(ignored);
    return;
  }
  std::string remote = socket_remote;
  if (header.has_source) {
    if (state->trusted.contains(ip_of(socket_remote))) {
      remote = proxy::printable_source(header);
      spdlog::debug("{} is a trusted proxy for {}", socket_remote, remote);
    } else {
      std::uint64_t suppressed = 0;
      if (state->untrusted_proxy_logs.allow(suppressed))
        spdlog::warn("{}: PROXY header from an untrusted peer ignored (it names {})",
                     socket_remote, proxy::printable_source(header));
    }
  }
  const std::string ip(ip_of(remote));
  // On the WebSocket port a client that is itself a trusted proxy may still be forwarding
  // for someone: its request headers will say (ws_connection).
  const bool wait_for_http = websocket && state->trusted.contains(std::string_view(ip));
  if (ticket.ip().empty() && !wait_for_http) {
    if (const auto refused = state->admitted->rekey(ticket, ip)) {
      count_refusal(*state, *refused, remote);
      return refuse(socket, *state, websocket, *refused);
    }
  }
  start(std::move(socket), state, websocket, std::move(ticket), std::move(remote));
}

}  // namespace

void accept_peer(tcp::socket socket, const std::shared_ptr<server_state>& state, bool websocket) {
  const auto& cfg = state->config;
  const bool proxied = websocket ? cfg.ws_proxy_protocol : cfg.tcp_proxy_protocol;
  const bool from_proxy = state->trusted.contains(ip_of(remote_of(socket)));
  // Only a header can say who the client is: until then a proxy's socket counts in the total.
  const bool defer_per_ip = from_proxy && (proxied || websocket);
  admission_ticket ticket;
  if (!admit(socket, *state, websocket, ticket, defer_per_ip)) return;
  if (!proxied) return start(std::move(socket), state, websocket, std::move(ticket), {});
  auto shared_ticket = std::make_shared<admission_ticket>(std::move(ticket));
  proxy::read_proxy_header(
      std::move(socket), cfg.handshake_timeout,
      [state, websocket, shared_ticket](const error_code& ec, const proxy::proxy_header& header,
                                        tcp::socket s) {
        on_header(state, websocket, std::move(*shared_ticket), ec, header, std::move(s));
      });
}

proxy::forwarded_client client_behind_proxy(const server_state& state, std::string_view remote,
                                            const proxy::forwarding_headers& headers) {
  auto client = proxy::pick_client(headers, ip_of(remote), state.trusted);
  if (!client.problem.empty()) {
    const auto& lines = headers.forwarded.empty() ? headers.x_forwarded_for : headers.forwarded;
    spdlog::debug("{}: forwarding header not used ({}): {}", remote, client.problem,
                  broker::printable(lines.empty() ? std::string_view() : lines.back()));
  }
  return client;
}

}  // namespace transport::detail
