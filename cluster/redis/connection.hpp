#pragma once

#include <atomic>
#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include "cluster/redis/handshake.hpp"
#include "cluster/redis/options.hpp"
#include "cluster/redis/reply.hpp"
#include "cluster/redis/script.hpp"
#include "cluster/redis/stream.hpp"

namespace cluster::redis {

/// One asynchronous Redis connection on a strand (stream + handshake), reconnecting with
/// exponential backoff (100 ms doubling to 5 s) for as long as it runs; commands are pipelined
/// and their replies matched in order. A READONLY reply (the master became a replica) and, in
/// Sentinel mode, a +switch-master naming our master make it reconnect, asking the sentinels
/// again. Everything but up()/connects() and the constructor runs on `strand` (post there
/// first); callbacks run there too. Lives in a shared_ptr; stop() before the io_context goes.
class connection : public std::enable_shared_from_this<connection> {
 public:
  using strand_type = boost::asio::strand<boost::asio::io_context::executor_type>;
  /// A reply, or null when the command failed (connection lost, not connected).
  using reply_fn = std::function<void(const redisReply* reply)>;

  /// `on_up` runs after each (re)connect, `on_down` after each loss (both on the strand).
  connection(strand_type strand, options o, std::string name, std::function<void()> on_up,
             std::function<void()> on_down);
  ~connection();

  /// Starts connecting (strand).
  void start();
  /// Disconnects for good; pending callbacks run with null (strand).
  void stop();
  /// Drops the connection and reconnects (after the backoff: the peer may be unreachable).
  void reset();

  /// Sends `args` (binary-safe); `done` runs once with the reply or null. False (and `done` not
  /// called) when not connected. For SUBSCRIBE/PSUBSCRIBE/UNSUBSCRIBE use push_command.
  bool command(const std::vector<std::string_view>& args, reply_fn done);
  /// Runs script `s` with `args` (numkeys, keys, arguments): its text (EVAL) the first time on
  /// this connection, EVALSHA afterwards. Why not EVALSHA at once: a NOSCRIPT answer comes a
  /// round trip later and the retry is queued after commands sent meanwhile, so appends
  /// pipelined behind it would overtake it (a /queue/ out of order). After a NOSCRIPT all the
  /// same (SCRIPT FLUSH while connected; rare) the text is sent once and `done` gets that reply:
  /// the script did not run, so the retry is safe. False (and `done` not called) when not
  /// connected.
  bool eval(const script& s, std::vector<std::string> args, reply_fn done);
  /// Sends a pub/sub command whose replies (confirmations, messages) all go to the handler set
  /// with set_push_handler. False when not connected.
  bool push_command(const std::vector<std::string_view>& args);
  /// Where pub/sub replies go (strand).
  void set_push_handler(reply_fn on_push) { on_push_ = std::move(on_push); }

  /// Connected now. Any thread.
  bool up() const noexcept { return up_.load(std::memory_order_relaxed); }
  /// Successful (re)connects so far. Any thread.
  std::uint64_t connects() const noexcept { return connects_.load(std::memory_order_relaxed); }
  /// When a reply (or pub/sub message) last arrived; the epoch before the first. Strand only.
  /// A PING waits behind every command pipelined before it, so on a busy link this, not the
  /// PING's own answer, tells a live connection from a dead one.
  std::chrono::steady_clock::time_point last_reply() const noexcept { return last_reply_; }
  /// Times a script's text was sent (first use on a connection, or after NOSCRIPT). Any thread.
  std::uint64_t script_texts() const noexcept {
    return script_texts_.load(std::memory_order_relaxed);
  }

 private:
  using self_ptr = std::shared_ptr<connection>;
  boost::asio::awaitable<void> run(self_ptr self);
  boost::asio::awaitable<void> read_until_lost(std::shared_ptr<stream> s);
  boost::asio::awaitable<void> write_queued(self_ptr self, std::shared_ptr<stream> s);
  boost::asio::awaitable<void> watch_sentinel(self_ptr self, std::shared_ptr<stream> s,
                                              address sentinel);
  boost::asio::awaitable<void> pause();
  void dispatch(reply_ptr r);
  void send(std::string bytes);
  void drop(std::string_view why);
  void lost();

  strand_type strand_;
  options opts_;
  std::string name_;
  std::function<void()> on_up_, on_down_;
  reply_fn on_push_;
  std::shared_ptr<boost::asio::ssl::context> tls_;  // null = plain
  std::string tls_error_;                           // when tls_ could not be built
  boost::asio::steady_timer retry_;
  std::chrono::milliseconds backoff_{100};
  std::shared_ptr<stream> stream_;     // while connected
  std::weak_ptr<stream> opening_;      // the stream a handshake is using
  std::weak_ptr<stream> watcher_;      // Sentinel: the +switch-master subscription
  std::deque<reply_fn> pending_;       // callbacks of commands sent, in order
  std::chrono::steady_clock::time_point last_reply_;
  std::string out_;                    // encoded commands not yet written
  bool writing_ = false;
  bool subscribed_ = false;  // push_command used: pub/sub messages arrive unasked
  bool stopped_ = false;
  std::atomic<bool> up_{false};
  std::atomic<std::uint64_t> connects_{0};
  std::atomic<std::uint64_t> script_texts_{0};
  std::unordered_set<std::string> scripts_sent_;  // SHAs whose text went on this connection
};

}  // namespace cluster::redis
