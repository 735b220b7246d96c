#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket/stream.hpp>

#include "stomp/frame.hpp"
#include "stomp/parser.hpp"

namespace load {

/// Where the broker listens: WebSocket (ws://host:port/path, subprotocol v12.stomp) or raw TCP.
struct target {
  bool websocket = true;      ///< false: STOMP over plain TCP
  std::string host = "127.0.0.1";  ///< numeric IPv4 address
  std::uint16_t port = 15674;      ///< listener port
  std::string path = "/ws";        ///< WebSocket upgrade path
};

/// Parses "ws://host:port/path" into `out`. False when malformed.
bool parse_ws_url(const std::string& url, target& out);
/// Parses "host:port" (plain TCP) into `out`. False when malformed.
bool parse_tcp_address(const std::string& address, target& out);

/// One STOMP client connection of the load generator: connects (from a chosen source address),
/// upgrades to WebSocket when asked, sends CONNECT and then hands every received frame to
/// `on_frame`. All callbacks run on the connection's strand; send() may be called from any
/// thread. Kept alive by its pending operations and by whoever holds the shared_ptr.
class stomp_client : public std::enable_shared_from_this<stomp_client> {
 public:
  /// Called for every frame the broker sends (CONNECTED, MESSAGE, RECEIPT, ERROR), on the strand.
  std::function<void(stomp_client&, const stomp::frame&)> on_frame;
  /// Called once when the connection fails or is closed by the peer (not after close()).
  std::function<void(stomp_client&, const std::string& what)> on_fail;

  stomp_client(boost::asio::io_context& ioc, const target& where);

  /// Opens the connection from `source` (port chosen at connect time) and sends `connect_frame`
  /// (serialized CONNECT) once the transport is up. Call once.
  void start(const boost::asio::ip::address& source, std::string connect_frame);

  /// Queues serialized frame bytes for writing (one WebSocket message per call). Thread-safe;
  /// runs inline when called on the strand.
  void send(std::string bytes);

  /// Starts sending a heart-beat EOL every `interval` (0: none). Call on the strand.
  void start_heartbeat(std::chrono::milliseconds interval);

  /// Closes the socket without a goodbye (the generator is done). Thread-safe.
  void close();

  /// Frames queued or being written. Read on the strand only.
  std::size_t queued() const noexcept { return queue_.size(); }

  /// The strand every callback runs on (for the scenario's own timers).
  boost::asio::strand<boost::asio::io_context::executor_type> executor() const { return strand_; }

  /// Free-form slot for the scenario (receiver index etc.).
  std::size_t tag = 0;

 private:
  void on_connect(const boost::system::error_code& ec);
  void on_handshake(const boost::system::error_code& ec);
  void do_read();
  void on_read(const boost::system::error_code& ec, std::size_t bytes);
  void do_write();
  void on_write(const boost::system::error_code& ec, std::size_t bytes);
  void do_heartbeat();
  void fail(const boost::system::error_code& ec, const char* what);

  using strand_type = boost::asio::strand<boost::asio::io_context::executor_type>;
  strand_type strand_;
  target where_;
  std::optional<boost::beast::websocket::stream<boost::beast::tcp_stream>> ws_;
  std::optional<boost::beast::tcp_stream> tcp_;
  boost::beast::flat_buffer buffer_;
  stomp::parser parser_;
  stomp::frame frame_;  // reused for every parsed frame
  std::deque<std::string> queue_;
  std::string gathered_;  // TCP: queued frames joined into one write
  std::size_t in_flight_ = 0;  // frames at the front of queue_ in the current write
  bool writing_ = false;
  bool open_ = false;   // transport up: writes may start
  bool closed_ = false;
  boost::asio::steady_timer heartbeat_;
  std::chrono::milliseconds heartbeat_interval_{0};
};

}  // namespace load
