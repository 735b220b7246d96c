#include "transport/detail/refusal.hpp"

#include <array>
#include <chrono>
#include <memory>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "transport/detail/endpoint.hpp"
#include "transport/detail/server_state.hpp"

namespace transport::detail {

namespace {

namespace net = boost::asio;
using tcp = net::ip::tcp;
using error_code = boost::system::error_code;

// How long a refused peer may take to read the answer and close its side.
constexpr std::chrono::seconds refusal_linger{2};
// A refused peer that keeps sending is cut after this many bytes.
constexpr std::size_t refusal_drain_max = 64 * 1024;

const char* explanation(refusal why) noexcept {
  switch (why) {
    case refusal::max_connections: return "the server holds its maximum number of connections";
    case refusal::max_connections_per_ip: return "too many connections from your address";
    case refusal::fd_limit: return "the server is out of file descriptors";
    case refusal::origin: return "origin not allowed";
  }
  return "refused";
}

/// Writes the answer, half-closes, and reads until the peer's EOF before closing: closing with
/// the peer's request unread would send an RST that can destroy the answer in flight.
class refuser : public std::enable_shared_from_this<refuser> {
 public:
  refuser(tcp::socket s, std::string bytes)
      : socket_(std::move(s)), bytes_(std::move(bytes)), timer_(socket_.get_executor()) {}

  void run() {
    timer_.expires_after(refusal_linger);
    timer_.async_wait([self = shared_from_this()](const error_code& ec) {
      if (!ec) self->close();
    });
    net::async_write(socket_, net::buffer(bytes_),
                     [self = shared_from_this()](const error_code& ec, std::size_t) {
                       if (ec) return self->close();
                       error_code ignored;
                       self->socket_.shutdown(tcp::socket::shutdown_send, ignored);
                       self->drain();
                     });
  }

 private:
  void drain() {
    socket_.async_read_some(net::buffer(buffer_),
                            [self = shared_from_this()](const error_code& ec, std::size_t n) {
                              self->drained_ += n;
                              if (ec || self->drained_ > refusal_drain_max) return self->close();
                              self->drain();
                            });
  }

  void close() {
    error_code ignored;
    timer_.cancel();
    socket_.close(ignored);
  }

  tcp::socket socket_;
  std::string bytes_;
  net::steady_timer timer_;
  std::array<char, 1024> buffer_{};
  std::size_t drained_ = 0;
};


}  // namespace

void count_refusal(server_state& state, refusal why, const std::string& remote,
                   std::string_view detail) {
  const auto i = static_cast<std::size_t>(why);
  state.counters.refused[i].fetch_add(1, std::memory_order_relaxed);
  std::uint64_t suppressed = 0;
  if (state.refusal_logs[i].allow(suppressed)) {
    spdlog::warn("refused {}: {} ({}; {} more refusals for this reason since the last line)",
                 remote, to_string(why), detail.empty() ? explanation(why) : detail, suppressed);
  }
}

std::string refusal_body(refusal why) { return fmt::format("{}\n", explanation(why)); }

std::string refusal_bytes(bool websocket, refusal why) {
  const std::string body = refusal_body(why);
  if (websocket) {
    const int status = why == refusal::origin ? 403 : 503;
    return fmt::format(
        "HTTP/1.1 {} {}\r\nServer: stompbox/{}\r\nContent-Type: text/plain; charset=utf-8\r\n"
        "Content-Length: {}\r\nConnection: close\r\n{}\r\n{}",
        status, status == 403 ? "Forbidden" : "Service Unavailable", transport::version(),
        body.size(), status == 503 ? "Retry-After: 1\r\n" : "", body);
  }
  // A STOMP 1.0-1.2 ERROR frame: valid before CONNECT, readable by every client.
  return fmt::format("ERROR\nmessage:too many connections\ncontent-type:text/plain\n"
                     "content-length:{}\n\n{}",
                     body.size(), body) +
         std::string(1, '\0');
}

bool admit(tcp::socket& socket, server_state& state, bool websocket, admission_ticket& ticket,
           bool defer_per_ip) {
  error_code ec;
  const auto ep = socket.remote_endpoint(ec);
  if (ec) {  // the peer is already gone
    socket.close(ec);
    return false;
  }
  const std::string ip = ep.address().to_string();
  const std::string remote = to_string(ep);
  const auto refused = state.admitted->try_enter(defer_per_ip ? std::string() : ip, ticket);
  if (!refused) return true;
  count_refusal(state, *refused, remote);
  refuse(socket, state, websocket, *refused);
  return false;
}

void refuse(tcp::socket& socket, server_state& state, bool websocket, refusal why) {
  if (state.tls) {
    error_code ec;
    socket.close(ec);
  } else {
    std::make_shared<refuser>(std::move(socket), refusal_bytes(websocket, why))->run();
  }
}

void refuse_at_fd_limit(tcp::socket& socket, server_state& state, bool websocket) {
  error_code ec;
  count_refusal(state, refusal::fd_limit, remote_of(socket));
  if (!state.tls) {
    // The socket buffer is empty: the answer fits. Never block the listener on a peer.
    socket.non_blocking(true, ec);
    const std::string bytes = refusal_bytes(websocket, refusal::fd_limit);
    socket.write_some(net::buffer(bytes), ec);
    socket.shutdown(tcp::socket::shutdown_send, ec);
  }
  socket.close(ec);
}

}  // namespace transport::detail
