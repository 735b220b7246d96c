#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>

#include "broker/connection.hpp"

namespace transport::detail {

/// What a WebSocket connection at {prefix}/{server}/{session}/websocket adds to plain STOMP
/// over WebSocket: SockJS frames in text messages (`o` first, `a["<STOMP frame>"]`, `h` every
/// sockjs_heartbeat, `c[code,"reason"]` last) and client messages that are JSON arrays of
/// strings. Owned by that connection; runs on its strand.
class sockjs_websocket {
 public:
  sockjs_websocket(boost::asio::any_io_executor strand, std::chrono::milliseconds heartbeat);

  /// Calls `tick` every heart-beat interval, on the strand, while `owner` (the connection that
  /// owns this object) is alive.
  void start_heartbeat(std::weak_ptr<void> owner, std::function<void()> tick);

  /// One STOMP frame as the text message `a["..."]`.
  static broker::outgoing wrap(const broker::outgoing& frame);

  /// The STOMP bytes in one client message (`["...",...]` or `"..."`; empty: none). False when
  /// it is not valid SockJS JSON.
  static bool unwrap(std::string_view message, std::vector<std::string>& out);

  /// The `o`, `h` or `c[...]` frame as a message.
  static broker::outgoing control(std::string frame);

 private:
  void arm();

  boost::asio::steady_timer timer_;
  std::chrono::milliseconds heartbeat_;
  std::weak_ptr<void> owner_;
  std::function<void()> tick_;
};

}  // namespace transport::detail
