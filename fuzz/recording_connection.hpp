#pragma once

// A broker::connection for fuzzers: records what a session writes and checks, as it happens,
// the rules every transport relies on. Any broken rule aborts (the fuzzer reports a crash):
//  - every outgoing element is exactly one whole frame that parses in the session's version;
//  - nothing is written after an ERROR frame, nor after close();
// Posted functions wait in a post_queue until the harness drains it (a stand-in for the strand);
// like transport's connection_base, they still run while the connection is closing and are
// dropped once the harness has reported it closed (finish()).

#include <chrono>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "broker/connection.hpp"
#include "stomp/version.hpp"

namespace fuzz {

/// Functions posted by recording connections (from any thread: the store's completions post
/// from its writer thread), run when the harness drains them. Thread-safe.
class post_queue {
 public:
  /// Queues `fn`. Any thread.
  void push(std::function<void()> fn);
  /// Runs queued functions, including the ones they post, until none is left. One thread.
  void drain();

 private:
  std::mutex mutex_;
  std::deque<std::function<void()>> fns_;
};

/// Records and checks one session's writes; see the file comment. Strand-only members are
/// called by the one thread that drains the post_queue.
class recording_connection final : public broker::connection,
                                   public std::enable_shared_from_this<recording_connection> {
 public:
  /// Posts go to `q`, which must outlive this connection.
  explicit recording_connection(post_queue& q);

  void post(std::function<void()> fn) override;
  void send(broker::outgoing frame) override;
  void close(broker::close_reason why) override;
  void connected(std::chrono::milliseconds send_every,
                 std::chrono::milliseconds expect_within) override;
  const broker::peer_info& peer() const noexcept override { return peer_; }

  /// The first close() reason, if the session closed the connection.
  std::optional<broker::close_reason> closed() const;
  /// True once an ERROR frame was written.
  bool error_sent() const;
  /// Frames written so far.
  std::size_t frames() const;
  /// The transport has reported the close to the session: later posts are dropped.
  void finish();

 private:
  void check_one_frame(const std::string& bytes);

  post_queue& queue_;
  broker::peer_info peer_{"tcp", "127.0.0.1:1", "", ""};
  mutable std::mutex mutex_;  // posts come from other threads; the rest is the draining thread's
  std::optional<broker::close_reason> closed_;
  bool error_sent_ = false;
  bool finished_ = false;
  std::size_t frames_ = 0;
  stomp::version version_ = stomp::version::v1_0;  // until a CONNECTED names one
};

}  // namespace fuzz
