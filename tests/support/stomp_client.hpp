#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "stomp/frame.hpp"
#include "stomp/parser.hpp"

namespace test_support {

using namespace std::chrono_literals;

/// A generous limit for waiting on the server in tests (not a timing assertion).
inline constexpr std::chrono::milliseconds patience = 10s;

/// A small synchronous STOMP test client over WebSocket or TCP (plain or TLS). Every read has a
/// timeout; after a timeout the client is unusable (its socket is closed). Not thread-safe.
class client {
 public:
  virtual ~client();

  /// WebSocket: one message (binary when `binary`); TCP: the bytes.
  virtual void send_bytes(std::string_view bytes, bool binary = false) = 0;
  /// WebSocket: the next message; TCP: the next bytes read. Empty optional once closed or
  /// after `timeout`.
  virtual std::optional<std::string> read_chunk(std::chrono::milliseconds timeout) = 0;
  /// WebSocket: whether the last message read was binary.
  virtual bool last_was_binary() const { return false; }
  /// WebSocket: the close code the server sent, once closed.
  std::optional<std::uint16_t> close_code() const { return close_code_; }
  /// True once the server closed the connection (or reset it).
  bool closed() const { return closed_; }
  /// How the connection ended when it was not a WebSocket close frame (EOF, reset...).
  const std::string& last_error() const { return last_error_; }

  /// Serialises `f` (STOMP 1.2 escaping) and sends it as one message / write.
  void send_frame(const stomp::frame& f, bool binary = false);
  /// The next frame (heart-beat EOLs skipped), or empty on timeout, close or parse error.
  std::optional<stomp::frame> read_frame(std::chrono::milliseconds timeout = patience);
  /// Sends CONNECT (accept-version 1.0,1.1,1.2, host, login, the extra headers) and returns the
  /// reply frame (CONNECTED or ERROR), empty when none came.
  std::optional<stomp::frame> connect(std::vector<stomp::header> extra = {},
                                      std::string login = "guest");
  /// Reads and discards until the server closes; false if it did not within `timeout`.
  bool wait_closed(std::chrono::milliseconds timeout = patience);
  /// Frames read while waiting in wait_closed (e.g. the ERROR before a close).
  const std::vector<stomp::frame>& frames_before_close() const { return before_close_; }

 protected:
  std::optional<std::uint16_t> close_code_;
  bool closed_ = false;
  std::string last_error_;

 private:
  stomp::parser parser_;
  std::string pending_;  // bytes read but not yet fed
  std::vector<stomp::frame> before_close_;
};

/// Options of a WebSocket client.
struct ws_options {
  std::string target = "/ws";
  std::vector<std::string> protocol_lines = {"v12.stomp"};  ///< one Sec-WebSocket-Protocol each
  std::vector<std::pair<std::string, std::string>> headers;  ///< extra handshake headers
  bool tls = false;
};

/// A WebSocket STOMP client with the handshake done; throws boost::system::system_error if it
/// fails (e.g. the upgrade is declined).
std::unique_ptr<client> make_ws_client(std::uint16_t port, const ws_options& opts = {});
/// The subprotocol the server chose for a WebSocket client ("" for none or a TCP client).
std::string subprotocol_of(const client& c);
/// A STOMP-over-TCP client, connected (TLS handshake done when `tls`). `receive_buffer` > 0
/// shrinks the socket's receive buffer (SO_RCVBUF) before connecting: a client that then stops
/// reading backs up the server quickly.
std::unique_ptr<client> make_tcp_client(std::uint16_t port, bool tls = false,
                                        int receive_buffer = 0);

/// A plain HTTP/1.1 GET: status code and body.
std::pair<unsigned, std::string> http_get(std::uint16_t port, const std::string& target);

/// A frame from command, headers and body.
stomp::frame make_frame(std::string command, std::vector<stomp::header> headers = {},
                        std::string body = {});

}  // namespace test_support
