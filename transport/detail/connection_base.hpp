#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/system/error_code.hpp>

#include "broker/connection.hpp"
#include "broker/session.hpp"
#include "transport/detail/admission.hpp"
#include "transport/detail/delivery_inbox.hpp"
#include "transport/detail/frame_queue.hpp"
#include "transport/detail/shared_timer.hpp"
#include "transport/server.hpp"

namespace transport::detail {

class server_state;

/// While one exists on a thread (the outermost counts), the inbox drains that deliveries need
/// are posted when it ends rather than at the first delivery: a socket read that carries many
/// publishes then reaches each subscriber as one batch (one write) even when another I/O
/// thread is idle and would otherwise drain the first delivery alone. Made around the handling
/// of one socket read.
class hold_drains {
 public:
  hold_drains();
  ~hold_drains();
  hold_drains(const hold_drains&) = delete;
  hold_drains& operator=(const hold_drains&) = delete;

 private:
  bool outermost_;
};

/// What every connection does whatever its stream: the broker::connection port, the write queue
/// with its pending-bytes cap, the one deadline (handshake, CONNECT, heart-beats, close) kept in
/// the server's shared_timer, and the close sequence. Stream types (plain/TLS, TCP/WebSocket) derive from it as templates and
/// supply the I/O steps. Everything but post() runs on the connection's strand (the executor
/// its socket was accepted with). Kept alive by its pending operations.
class connection_base : public broker::connection,
                        public std::enable_shared_from_this<connection_base>,
                        private shared_timer::client {
 public:
  connection_base(boost::asio::any_io_executor strand, std::shared_ptr<server_state> server,
                  std::string transport_name, std::string remote);
  ~connection_base() override;

  void post(std::function<void()> fn) override;
  bool deliver_later(std::uint64_t handle, const broker::message_ptr& m) override;
  void send(broker::outgoing frame) override;
  void close(broker::close_reason why) override;
  void connected(std::chrono::milliseconds send_every,
                 std::chrono::milliseconds expect_within) override;
  const broker::peer_info& peer() const noexcept override { return peer_; }
  void pause_reading() override;
  void resume_reading() override;
  void pause_reading_for(std::chrono::nanoseconds d) override;

  /// Takes the admission place this connection holds until it closes (finish()). Before start().
  void hold(admission_ticket ticket) noexcept { ticket_ = std::move(ticket); }

  /// Registers with the server and starts the handshake on the strand. Any thread.
  void start();

  /// Closes with close_reason::shutdown (WebSocket 1001) on the strand. Any thread.
  void stop();

  /// Unique in the process: the console's connection id. Any thread.
  std::uint64_t id() const noexcept { return id_; }
  /// When the socket was accepted. Any thread.
  std::chrono::steady_clock::time_point opened() const noexcept { return opened_; }
  /// Calls `done` on the strand with what the console shows of this connection. Any thread;
  /// `done` is destroyed unrun if the io_context stops first.
  void describe(std::function<void(transport::connection_summary)> done);
  /// On the strand: the session sends ERROR "closed by an administrator", then the connection
  /// closes (close_reason::shutdown). Any thread.
  void close_by_admin();

 protected:
  enum class phase : std::uint8_t { handshaking, open, closing, shutting, closed };

  /// First step after start(), on the strand: TLS / HTTP handshakes, then open_session().
  virtual void run() = 0;
  /// Writes queue_ from the front; sets in_flight_; calls on_write_done. Queue not empty.
  virtual void start_write() = 0;
  /// Graceful end after the queue is flushed (WebSocket close frame, TCP shutdown); calls
  /// finish() when done.
  virtual void start_shutdown() = 0;
  /// Closes the socket now. Idempotent.
  virtual void cut() noexcept = 0;
  /// WebSocket: sends the 1001 close for stop() before any session exists. Default: cut.
  virtual void abort_handshake() { cut(); }
  /// Starts reading again after resume_reading() found the read loop parked by may_read().
  /// Runs on the strand, posted. Default: nothing (a transport that never parks).
  virtual void restart_read() {}
  /// The pending-bytes cap of this connection. Default: server_config::max_pending_bytes
  /// (SockJS sessions buffer between polls under their own cap).
  virtual std::size_t max_pending_bytes() const noexcept;

  /// Handshakes done: asks the broker for a session and arms the CONNECT timeout.
  void open_session();
  /// Bytes read from the peer: hands them to the session (ignored once closing).
  void deliver_read(std::string_view bytes);
  /// A read failed: the peer went away (or the close handshake finished).
  void on_read_error(const boost::system::error_code& ec, broker::close_reason why);
  /// The write of the in_flight_ frames at the front of the queue completed.
  void on_write_done(const boost::system::error_code& ec);
  /// Drops the queued frames not yet handed to the socket (those behind in_flight_): the peer
  /// closed or broke the protocol, nothing more goes to it but our close.
  void discard_unsent() noexcept;
  /// Ends the connection: cuts the socket, calls session::on_closed once, logs one line.
  void finish(broker::close_reason why);
  /// A handshake step failed before any session exists.
  void handshake_failed(const boost::system::error_code& ec, std::string_view what);

  bool reading() const noexcept { return phase_ == phase::open; }
  /// Whether the read loop may start its next read: open and not paused. False while paused
  /// parks the loop: resume_reading() then calls restart_read().
  bool may_read() noexcept;
  bool read_paused() const noexcept { return pauses_ > 0; }
  const server_state& server() const noexcept { return *server_; }
  const std::shared_ptr<server_state>& shared_server() const noexcept { return server_; }
  broker::peer_info& mutable_peer() noexcept { return peer_; }
  broker::close_reason reason() const noexcept { return reason_; }
  /// Hands the admission place over to whoever takes the socket over (an HTTP exchange).
  admission_ticket take_ticket() noexcept { return std::move(ticket_); }

  frame_queue queue_;
  std::size_t in_flight_ = 0;  ///< frames at the front of queue_ being written

 private:
  using clock = std::chrono::steady_clock;

  friend class hold_drains;
  void drain_inbox();
  void post_drain();
  void post_held_drain();
  void apply_cap();
  std::size_t waiting_bytes() const noexcept;
  void count_by_transport(std::int64_t delta) noexcept;  // stats::open_by_transport
  void disconnect_slow();
  void arm_timer();
  static void on_expired(shared_timer::client& c) noexcept;  // any thread: posts on_timer
  void on_timer();
  clock::time_point next_deadline() const noexcept;

  boost::asio::any_io_executor strand_;
  std::shared_ptr<server_state> server_;
  std::shared_ptr<broker::session> session_;
  delivery_inbox inbox_;  ///< topic deliveries from any thread, drained on the strand
  std::vector<delivery_inbox::delivery> draining_;  ///< the batch being delivered (strand)
  admission_ticket ticket_;  ///< the place counted for this connection, released by finish()
  broker::peer_info peer_;
  const std::uint64_t id_;
  const clock::time_point opened_;
  clock::time_point close_deadline_;
  clock::time_point last_read_;
  clock::time_point last_write_;
  std::chrono::milliseconds send_every_{0};
  std::chrono::milliseconds expect_within_{0};
  std::size_t pending_bytes_ = 0;
  broker::close_reason reason_ = broker::close_reason::normal;
  phase phase_ = phase::handshaking;
  bool connected_ = false;
  bool slow_ = false;          ///< the cap fired; the session is being told
  bool slow_pending_ = false;  ///< on_slow_consumer posted, not yet run: drop sends
  bool gathering_ = false;     ///< drain_inbox is queueing a batch: send() starts no write
  /// A hold_drains on some thread holds this connection's drain back; set and cleared from any
  /// thread.
  std::atomic<bool> drain_held_{false};
  unsigned pauses_ = 0;        ///< pause_reading() calls not yet resumed (flow control)
  bool timed_pause_ = false;   ///< one of the pauses ends at paused_until_ (send_rate)
  clock::time_point paused_until_;
  /// Set while the read loop is parked by flow control: with no read pending (and no timer
  /// when heart-beats are off) nothing else would keep this connection alive.
  std::shared_ptr<connection_base> parked_;
};

}  // namespace transport::detail
