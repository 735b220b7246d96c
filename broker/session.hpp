#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "broker/connection.hpp"

namespace broker {

/// What an operator's console shows of one session (see session::summary).
struct session_summary {
  std::string id;                  ///< the CONNECTED `session` header; empty before CONNECTED
  std::string user;                ///< the principal's name; empty: anonymous or not connected
  std::size_t subscriptions = 0;   ///< active SUBSCRIBEs
  bool connected = false;          ///< CONNECTED was sent and the session is not closing
};

/// One STOMP session: parses what its connection reads, runs the frames, writes replies through
/// the connection. Created by broker::open_session. Every member is called on the connection's
/// strand only; other threads reach it through connection::post. The registry holds only weak
/// references to it.
class session {
 public:
  virtual ~session() = default;

  /// Bytes read from the peer, in order (a WebSocket message or a TCP read; frames may span calls
  /// and one call may hold many frames).
  virtual void on_bytes(std::string_view bytes) = 0;

  /// The connection's pending bytes passed the cap under the disconnect policy: the session sends
  /// an ERROR and closes with close_reason::slow_consumer.
  virtual void on_slow_consumer() = 0;

  /// Every frame sent with a non-zero outgoing::written_mark up to and including `mark` has
  /// been written to the socket. Marks grow in the order the frames were sent; a frame that was
  /// never written (the connection ended first) is never reported. Not called after on_closed.
  virtual void on_written(std::uint64_t mark) { (void)mark; }

  /// The connection has ended (any reason, exactly once): subscriptions are removed, unacked queue
  /// messages go back to their queues, open transactions are aborted.
  virtual void on_closed(close_reason why) = 0;

  /// What the session is now, for the operator's console. Default: nothing known.
  virtual session_summary summary() const { return {}; }

  /// A topic message for the subscription registered as `handle`, taken from the connection's
  /// inbox (connection::deliver_later). A handle this session no longer has is ignored.
  virtual void deliver(std::uint64_t handle, const message_ptr& m) {
    (void)handle;
    (void)m;
  }

  /// An administrator ends the session: ERROR "closed by an administrator", then the
  /// connection closes (close_reason::shutdown). Default: nothing (the transport then closes).
  virtual void close_by_admin() {}
};

}  // namespace broker
