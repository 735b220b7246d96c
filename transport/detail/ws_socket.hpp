#pragma once

#include <array>
#include <cstddef>
#include <utility>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

namespace transport::detail {

/// The plain TCP socket under a WebSocket stream. A type of its own so that Beast finds our
/// teardown (by ADL, an exact match beats Beast's basic_stream_socket overload): Beast 1.81's
/// tcp teardown tests the wrong variable for "bytes read" and closes after the first read that
/// returns data, so unread bytes (the rest of an oversized message) turn the close into an RST
/// that can destroy our close frame on its way to the peer.
class ws_socket : public boost::asio::ip::tcp::socket {
 public:
  explicit ws_socket(boost::asio::ip::tcp::socket&& s) : boost::asio::ip::tcp::socket(std::move(s)) {}
};

namespace teardown_detail {

// A peer may keep sending after our close; past this we stop draining and close anyway.
constexpr std::size_t max_drain = 1024 * 1024;

template <class Handler>
struct drain_op {
  ws_socket& socket;
  Handler handler;
  std::size_t drained = 0;

  void wait() {
    auto& s = socket;
    s.async_wait(boost::asio::socket_base::wait_read, std::move(*this));
  }

  void operator()(boost::system::error_code ec) {
    while (!ec) {
      std::array<char, 2048> buf;
      const auto n = socket.read_some(boost::asio::buffer(buf), ec);
      if (ec == boost::asio::error::would_block) return wait();
      drained += n;
      if (drained > max_drain) break;
    }
    if (ec == boost::asio::error::eof) ec = {};
    boost::system::error_code ignored;
    socket.close(ignored);
    handler(ec);
  }
};

}  // namespace teardown_detail

/// Beast customisation point: shut down our send side, read and discard until the peer's EOF
/// (or max_drain bytes), then close.
template <class TeardownHandler>
void async_teardown(boost::beast::role_type role, ws_socket& socket, TeardownHandler&& handler) {
  boost::system::error_code ec;
  socket.non_blocking(true, ec);
  if (role == boost::beast::role_type::server)
    socket.shutdown(boost::asio::socket_base::shutdown_send, ec);
  teardown_detail::drain_op<std::decay_t<TeardownHandler>>{
      socket, std::forward<TeardownHandler>(handler)}
      .wait();
}

/// Beast customisation point (synchronous close; unused by the server, which is asynchronous).
inline void teardown(boost::beast::role_type, ws_socket& socket, boost::system::error_code& ec) {
  socket.shutdown(boost::asio::socket_base::shutdown_send, ec);
  socket.close(ec);
}

}  // namespace transport::detail
