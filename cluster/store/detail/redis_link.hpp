#pragma once
// One blocking Redis connection with a command timeout, for the store's threads: the
// connection layer of cluster/redis/ (stream, handshake: Sentinel, TLS, AUTH, SELECT) driven
// on a private io_context until each step completes. Not thread-safe: each link is used by one
// thread at a time (the owner serialises). Any I/O error or timeout closes the link;
// `connect` reopens it.

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>

#include "cluster/redis/options.hpp"
#include "cluster/redis/reply.hpp"
#include "cluster/redis/stream.hpp"

namespace cluster::detail {

/// Where Redis is (cluster/redis/options.hpp).
using redis_endpoint = redis::options;
/// A reply owned by the caller.
using redis::reply_ptr;

/// Maps an error reply ("-OOM ...", "-READONLY ...", "-LOADING ...") to a broker::store::error.
std::error_code error_of_reply(const redisReply& r);

/// One blocking connection.
class redis_link {
 public:
  /// Does not connect: call connect(). `timeout` bounds each step of the connect and every
  /// reply.
  redis_link(redis_endpoint where, std::chrono::milliseconds timeout);
  ~redis_link();
  redis_link(const redis_link&) = delete;
  redis_link& operator=(const redis_link&) = delete;

  /// (Re)connects as the endpoint says (Sentinel, TLS, AUTH, SELECT). Empty on success.
  std::error_code connect();
  /// True while the connection is usable (no I/O error since connect()).
  bool connected() const noexcept { return stream_ != nullptr; }
  /// Drops the connection.
  void close() noexcept;

  /// Queues one command (binary-safe arguments) in the output buffer; nothing is sent yet.
  void append(const std::vector<std::string_view>& args);
  /// Sends what is queued (first call) and reads the next reply. On an I/O error or timeout
  /// returns null with `ec` set and closes the link. An error *reply* is returned as a reply.
  reply_ptr read_reply(std::error_code& ec);
  /// append + read_reply for a single command.
  reply_ptr command(const std::vector<std::string_view>& args, std::error_code& ec);

  /// The message of the last failure (for logs; never the password).
  const std::string& last_error() const noexcept { return last_error_; }

 private:
  std::error_code fail(std::error_code ec, std::string_view what);
  template <class T>
  T run(boost::asio::awaitable<T> op);

  redis_endpoint where_;
  std::chrono::milliseconds timeout_;
  boost::asio::io_context io_{1};
  std::shared_ptr<boost::asio::ssl::context> tls_;  // null = plain
  std::string tls_error_;
  std::shared_ptr<redis::stream> stream_;
  std::string out_;  // commands appended, not yet sent
  std::string last_error_;
};

}  // namespace cluster::detail
