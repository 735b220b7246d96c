#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "broker/broker.hpp"
#include "broker/connection.hpp"
#include "stomp/frame.hpp"
#include "stomp/version.hpp"

namespace broker_test {

/// Functions posted by fake connections, run when the test drains them: deterministic when one
/// thread drains, a stand-in for strands when each queue has its own draining thread.
class post_queue {
 public:
  void push(std::function<void()> fn);
  /// Runs queued functions (including ones they post) until none is left; returns how many ran.
  std::size_t drain();
  /// Runs at most `max` queued functions (others may be pushing all along); returns how many.
  std::size_t drain(std::size_t max);

 private:
  std::mutex mutex_;
  std::deque<std::function<void()>> fns_;
};

/// A broker::connection that records what the session does. post() runs on a post_queue;
/// functions posted after close() are dropped, as the transport does.
class fake_connection : public broker::connection,
                        public std::enable_shared_from_this<fake_connection> {
 public:
  explicit fake_connection(post_queue& q, broker::peer_info peer = {"tcp", "127.0.0.1:1", "", ""});

  void post(std::function<void()> fn) override;
  void send(broker::outgoing frame) override;
  void close(broker::close_reason why) override;
  void connected(std::chrono::milliseconds send_every,
                 std::chrono::milliseconds expect_within) override;
  const broker::peer_info& peer() const noexcept override { return peer_; }
  void pause_reading() override;
  void resume_reading() override;

  /// Called for every frame sent, on the sending thread (e.g. to answer with an ACK).
  std::function<void(const broker::outgoing&)> on_send;

  /// The session told of written marks (outgoing::written_mark), as the transport does once a
  /// frame's bytes are written: posted right after the send, unless writes are held.
  std::weak_ptr<broker::session> writer_of;
  /// A stalled socket: from now on marks wait for write_held() (false: report them as sent).
  void hold_writes(bool hold);
  /// Reports every held mark (the socket drained).
  void write_held();
  /// The transport reported on_closed: no mark is reported after it.
  std::atomic<bool> ended{false};

  std::vector<broker::outgoing> sent() const;
  std::vector<broker::close_reason> closes() const;
  std::optional<std::pair<std::chrono::milliseconds, std::chrono::milliseconds>> heart_beats()
      const;
  bool closed() const;
  /// Flow control: pause_reading() calls not yet resumed, and pauses ever.
  int paused() const;
  int pauses() const;

 private:
  void report_written(std::uint64_t mark);

  post_queue& queue_;
  broker::peer_info peer_;
  bool hold_writes_ = false;
  std::vector<std::uint64_t> held_marks_;
  mutable std::mutex mutex_;
  std::vector<broker::outgoing> sent_;
  std::vector<broker::close_reason> closes_;
  int paused_ = 0;
  int pauses_ = 0;
  std::optional<std::pair<std::chrono::milliseconds, std::chrono::milliseconds>> heart_beats_;
};

/// Builds a frame: make("SEND", {{"destination", "/topic/a"}}, "body").
stomp::frame make(std::string command,
                  std::initializer_list<std::pair<std::string, std::string>> headers = {},
                  std::string body = {});

/// Parses one outgoing element back into a frame (fails the test if it is not exactly one).
stomp::frame parse(const broker::outgoing& out, stomp::version v);

/// A STOMP client driving one session through a fake connection, acting as the transport too
/// (calls on_closed once the session closed its connection).
class client {
 public:
  client(broker::broker& b, post_queue& q, broker::peer_info peer = {"tcp", "127.0.0.1:1", "", ""});

  /// Feeds raw bytes to the session.
  void raw(std::string_view bytes);
  /// Serialises `f` for the client's version and feeds it.
  void send(const stomp::frame& f);
  /// CONNECT with accept-version `versions` (omitted when empty) plus `extra` headers; returns
  /// the reply (CONNECTED or ERROR) and adopts the negotiated version. A password check runs on
  /// the broker's login threads: waits (draining the post queue) up to 10 s for the reply.
  stomp::frame connect(std::string versions = "1.2",
                       std::initializer_list<std::pair<std::string, std::string>> extra = {});

  /// Frames received since the last call.
  std::vector<stomp::frame> take();
  /// Frames received since the last take() with this command.
  std::vector<stomp::frame> take(std::string_view command);
  /// The one frame received since the last take() (fails the test otherwise).
  stomp::frame take_one();

  std::shared_ptr<fake_connection> conn;
  std::shared_ptr<broker::session> session;
  stomp::version version = stomp::version::v1_2;

 private:
  void notice_close();
  post_queue& queue_;
  std::size_t seen_ = 0;
  bool closed_notified_ = false;
};

}  // namespace broker_test
