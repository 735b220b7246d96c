#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace broker {

struct message;
using message_ptr = std::shared_ptr<const message>;

/// Why a connection ended. Exactly one per connection; logged once and counted.
enum class close_reason {
  normal,             ///< DISCONNECT, or the client closed cleanly (WebSocket 1000)
  peer_gone,          ///< socket closed or reset by the peer
  protocol_error,     ///< after an ERROR frame for bad input (WebSocket 1002)
  frame_too_large,    ///< after an ERROR for a frame over the limit (WebSocket 1009)
  auth_failed,        ///< after ERROR "access refused" (WebSocket 1002)
  heartbeat_timeout,  ///< nothing read within the negotiated tolerance
  connect_timeout,    ///< no CONNECT in time
  slow_consumer,      ///< pending bytes over the cap (WebSocket 1002 after ERROR... or 1008)
  server_error,       ///< a bug or resource failure on our side (WebSocket 1011)
  shutdown,           ///< broker stopping (WebSocket 1001)
};

/// Short stable name ("normal", "heartbeat_timeout", ...) for logs and metrics.
const char* to_string(close_reason r) noexcept;

/// Encoded bytes of one frame on their way to a socket. A MESSAGE for many subscribers shares its
/// `tail` (see stomp::shared_message); `head` is this subscriber's own part. Every element written
/// as one WebSocket message is head + tail: whole frames only.
struct outgoing {
  std::string head;
  std::shared_ptr<const std::string> tail;  ///< may be null; kept alive by the shared message
  bool text = true;        ///< valid UTF-8: send as a WebSocket text message, else binary
  bool droppable = false;  ///< a topic MESSAGE the drop-oldest policy may discard
  /// Non-zero: once these bytes are written to the socket the transport reports it through
  /// session::on_written (durable deliveries leave the store only then). Never droppable.
  std::uint64_t written_mark = 0;
  std::size_t size() const noexcept { return head.size() + (tail ? tail->size() : 0); }
};

/// What the peer is, as the transport saw it. Immutable after the session opens.
struct peer_info {
  std::string transport;    ///< "ws", "wss", "tcp", "tls", "sockjs"
  std::string remote;       ///< "ip:port"
  std::string subprotocol;  ///< negotiated Sec-WebSocket-Protocol, empty when none
  std::string bearer_token; ///< from the WebSocket handshake (header, query or cookie), if any
};

/// The port a session talks to its transport through [Asio chat_participant]. Implemented by
/// transport/, which owns it (shared_ptr) and outlives the session's use of it on its strand.
class connection {
 public:
  virtual ~connection() = default;

  /// Runs `fn` on this connection's strand, later. Thread-safe: this is how other sessions and
  /// application threads reach a session. `fn` is dropped if the connection has closed.
  virtual void post(std::function<void()> fn) = 0;

  /// Topic fan-out: has session::deliver(handle, m) run on this connection's strand, later, in
  /// the order of the calls, without a closure per delivery (a burst costs one strand hand-off).
  /// Thread-safe; dropped once the connection has closed. Returns false when this transport has
  /// no inbox: the caller then post()s the delivery itself.
  virtual bool deliver_later(std::uint64_t handle, const message_ptr& m) {
    (void)handle;
    (void)m;
    return false;
  }

  /// Queues one encoded frame for writing. Strand only. Applies the pending-bytes cap and the
  /// slow-consumer policy (which may close the connection through session::on_slow_consumer).
  virtual void send(outgoing frame) = 0;

  /// Writes what is queued, then closes with `why`. Strand only. Later calls are ignored.
  virtual void close(close_reason why) = 0;

  /// The session is CONNECTED: ends the CONNECT timeout and arms heart-beats. Send an EOL after
  /// `send_every` without writing; close with heartbeat_timeout after `expect_within` without
  /// reading. Zero disables either. Strand only.
  virtual void connected(std::chrono::milliseconds send_every,
                         std::chrono::milliseconds expect_within) = 0;

  /// The peer as the transport saw it.
  virtual const peer_info& peer() const noexcept = 0;

  /// Publisher flow control: stop reading from the peer after the bytes already read have been
  /// handed to the session, so TCP back-pressure slows the peer. Reference-counted: each call
  /// needs one resume_reading(). While paused, writes (RECEIPTs, MESSAGEs, heart-beats) go on
  /// and the peer's silence does not count against the heart-beat timeout. Strand only. The
  /// default (a transport without flow control) ignores it.
  virtual void pause_reading() {}

  /// Undoes one pause_reading(); at zero, reading continues where the parser stopped. Extra
  /// calls are ignored. Strand only.
  virtual void resume_reading() {}

  /// Rate limiting: pause_reading() now and resume_reading() after `d` (a later call while
  /// paused only extends the pause). Heart-beats go on as for any pause. Strand only. The
  /// default (a transport without flow control) ignores it.
  virtual void pause_reading_for(std::chrono::nanoseconds d) { (void)d; }
};

}  // namespace broker
