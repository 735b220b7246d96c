#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include "cluster/redis_url.hpp"

struct redisAsyncContext;
struct redisReply;

namespace cluster {

namespace detail {
class hiredis_watcher;
}

/// The string of a string, status or error reply; empty for null and other kinds.
std::string_view reply_text(const redisReply* r);

/// One hiredis async connection driven from an io_context (see detail/hiredis_watcher.hpp),
/// reconnecting with exponential backoff (100 ms doubling to 5 s) for as long as it runs.
/// Everything but up() and the constructor runs on `strand` (post there first); callbacks run
/// there too. Lives in a shared_ptr; stop() before the io_context goes.
class redis_connection : public std::enable_shared_from_this<redis_connection> {
 public:
  using strand_type = boost::asio::strand<boost::asio::io_context::executor_type>;
  /// A reply, or null when the command failed (connection lost, not connected).
  using reply_fn = std::function<void(const redisReply* reply)>;

  /// `on_up` runs after each (re)connect, `on_down` after each loss (both on the strand).
  redis_connection(strand_type strand, redis_endpoint ep, std::string name,
                   std::function<void()> on_up, std::function<void()> on_down);
  ~redis_connection();

  /// Starts connecting (strand).
  void start();
  /// Disconnects for good; pending callbacks run with null (strand).
  void stop();
  /// Drops the connection and reconnects (after a timeout: the peer may be unreachable).
  void reset();

  /// Sends `args` (binary-safe); `done` runs once with the reply or null. False (and `done` not
  /// called) when not connected. For SUBSCRIBE/PSUBSCRIBE/UNSUBSCRIBE use `persistent`.
  bool command(const std::vector<std::string_view>& args, reply_fn done);
  /// Sends a pub/sub command whose replies (confirmations, messages) all go to the handler set
  /// with set_push_handler. False when not connected.
  bool push_command(const std::vector<std::string_view>& args);
  /// Where pub/sub replies go (strand).
  void set_push_handler(reply_fn on_push) { on_push_ = std::move(on_push); }

  /// Connected now. Any thread.
  bool up() const noexcept { return up_.load(std::memory_order_relaxed); }
  /// Successful (re)connects so far. Any thread.
  std::uint64_t connects() const noexcept { return connects_.load(std::memory_order_relaxed); }

 private:
  static void on_connect(const redisAsyncContext* ac, int status);
  static void on_disconnect(const redisAsyncContext* ac, int status);
  static void on_reply(redisAsyncContext* ac, void* reply, void* privdata);
  static void on_push_reply(redisAsyncContext* ac, void* reply, void* privdata);

  void do_connect();
  void lost();
  void schedule_reconnect();
  bool send(const std::vector<std::string_view>& args, void (*fn)(redisAsyncContext*, void*, void*),
            void* privdata);

  strand_type strand_;
  redis_endpoint ep_;
  std::string name_;
  std::function<void()> on_up_, on_down_;
  reply_fn on_push_;
  boost::asio::steady_timer retry_;
  std::chrono::milliseconds backoff_{100};
  redisAsyncContext* ac_ = nullptr;
  std::shared_ptr<detail::hiredis_watcher> watcher_;
  bool stopped_ = false;
  std::atomic<bool> up_{false};
  std::atomic<std::uint64_t> connects_{0};
};

}  // namespace cluster
