#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>

#include "transport/detail/connection_base.hpp"
#include "transport/sockjs/sockjs_receiver.hpp"

namespace transport::detail {

/// A STOMP session over SockJS's HTTP transports (xhr polling, xhr_streaming, eventsource):
/// a connection whose "socket" is whichever HTTP response the client has open at the moment.
/// Frames queue in connection_base's write queue (capped by sockjs_max_buffered_bytes) while
/// no response is attached and leave as one `a[...]` frame when one is; a response idle for
/// sockjs_heartbeat gets `h`; with no response for sockjs_session_timeout the session ends
/// (peer_gone) and its queued frames count as dropped. Runs on a strand of its own; attach()
/// and receive() may be called from any thread. Kept alive by its pending operations.
class sockjs_session final : public connection_base {
 public:
  /// A session for `id`, not started. `peer` carries the remote and bearer token of the
  /// request that created it.
  static std::shared_ptr<sockjs_session> create(const std::shared_ptr<server_state>& server,
                                                std::string id, const broker::peer_info& peer);

  /// Hands over a new response: it gets the open frame (first time), the queued frames, a
  /// heart-beat or the close frame. A second response while one is attached gets
  /// `c[2010,"Another connection still open"]`. Any thread.
  void attach(std::shared_ptr<sockjs_receiver> r);

  /// Messages from an xhr_send body, each handed to the STOMP session as bytes, in order.
  /// While flow control pauses reading they are held (the POST is answered already: there is
  /// no stream to stop) up to sockjs_max_buffered_bytes; past that they are handed over anyway
  /// and the queue's hard bound refuses what a peer ignoring back-pressure adds. Any thread.
  void receive(std::vector<std::string> messages);

  void close(broker::close_reason why) override;

  sockjs_session(boost::asio::any_io_executor strand, const std::shared_ptr<server_state>& server,
                 std::string id, const broker::peer_info& peer);

 private:
  using clock = std::chrono::steady_clock;

  std::shared_ptr<sockjs_session> self();

  void run() override;
  void start_write() override;
  void start_shutdown() override;
  void cut() noexcept override;
  std::size_t max_pending_bytes() const noexcept override;
  void restart_read() override;
  void on_receive(std::vector<std::string> messages);

  void on_attach(std::shared_ptr<sockjs_receiver> r);
  void pump();
  void write_frame(std::string frame);
  void on_frame_written(const std::shared_ptr<sockjs_receiver>& r, bool last,
                        const boost::system::error_code& ec);
  void detach();
  void answer_once(const std::shared_ptr<sockjs_receiver>& r, const std::string& frame);
  void arm_timer();
  void on_timer();
  void expire();

  boost::asio::any_io_executor strand_;
  std::string id_;
  std::shared_ptr<sockjs_receiver> receiver_;
  std::uint64_t receiver_gen_ = 0;  // tells a stale watch completion from the current one
  boost::asio::steady_timer sockjs_timer_;  // heart-beat while attached, timeout while not
  clock::time_point last_frame_;    // last frame written to a response
  clock::time_point detached_at_;   // when the last response ended
  std::string close_frame_;         // set once the session has ended
  std::deque<std::string> held_;    // xhr_send messages received while reading is paused
  std::size_t held_bytes_ = 0;
  bool open_sent_ = false;
  bool writing_ = false;            // a write to receiver_ is in progress
  bool writing_frames_ = false;     // ... and it carries the in_flight_ queued frames
  bool shutdown_pending_ = false;   // start_shutdown ran: the close frame goes out next
  bool closing_write_ = false;      // the close frame is being written
  bool finished_ = false;           // cut() ran
  bool close_requested_ = false;    // close() was called: its reason stands
};

}  // namespace transport::detail
